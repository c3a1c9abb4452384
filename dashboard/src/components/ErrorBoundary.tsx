/**
 * Around each page: a page that throws while rendering (a bug, or data it did not expect) shows a plain-words message
 * in place of the page, and the header and navigation keep working. Going to another route (a new resetKey) shows
 * the page again; while nothing failed the page stays mounted across routes, as it would without the boundary.
 */
import { Component, type ComponentChildren } from 'preact';
import { href } from '../router.js';

interface State {
  failed: boolean;
}

export class ErrorBoundary extends Component<{ resetKey: string; children: ComponentChildren }, State> {
  override state: State = { failed: false };

  static override getDerivedStateFromError(): State {
    return { failed: true };
  }

  override componentDidUpdate(previous: { resetKey: string }): void {
    if (this.state.failed && previous.resetKey !== this.props.resetKey) this.setState({ failed: false });
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
