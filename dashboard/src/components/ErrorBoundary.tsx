/**
 * Around each page: a page that throws while rendering (a bug, or data it did not expect) shows a plain-words message
 * in place of the page, and the header and navigation keep working. The shell keys it by route, so going to another
 * page starts afresh.
 */
import { Component, type ComponentChildren } from 'preact';
import { href } from '../router.js';

interface State {
  failed: boolean;
}

export class ErrorBoundary extends Component<{ children: ComponentChildren }, State> {
  override state: State = { failed: false };

  static override getDerivedStateFromError(): State {
    return { failed: true };
  }

  override componentDidCatch(error: unknown): void {
    // The browser's console is where a technician looks; the page itself says it in plain words.
    console.error('page failed to render', error);
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <section aria-labelledby="page-error-heading" data-testid="page-error">
        <h2 id="page-error-heading">This page could not be shown</h2>
        <p role="alert">
          Something went wrong while showing this page. Nothing you saved has been lost. Reload the page to
          try again, or <a href={href('today')}>go to Today</a>. If it keeps happening, tell the school's
          administrator.
        </p>
      </section>
    );
  }
}
