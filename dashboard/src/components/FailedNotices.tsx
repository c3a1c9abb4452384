/**
 * Notices the hub could not send by email or webhook after every retry (R2): nobody was told of these reports, so the
 * person reading this must tell them. Loaded once when the page opens (polling would keep an idle session alive, S2).
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { fmtDateTime } from '../format.js';
import { href } from '../router.js';
import type { FailedNotice } from '../types.js';

const EVENT_TEXT: Record<string, string> = {
  reported: 'new report',
  escalated: 'escalation',
  routed: 'routed to someone',
};

export function FailedNotices() {
  const [failed, setFailed] = useState<FailedNotice[]>([]);
  useEffect(() => {
    api<FailedNotice[]>('GET', '/api/notifications/failed').then(setFailed, () => setFailed([]));
  }, []);
  if (failed.length === 0) return null;
  return (
    <div class="banner danger" role="alert" data-testid="failed-notices">
      <h2>Notifications that could not be sent</h2>
      <p>
        The hub tried to tell staff about these and could not reach the mail server or webhook. Please make
        sure the right person knows.
      </p>
      <ul>
        {failed.map((n) => (
          <li key={n.id}>
            <a href={href('reports', n.ref)}>{n.ref}</a> ({n.room}, {fmtDateTime(Date.parse(n.at))}):{' '}
            {EVENT_TEXT[n.event] ?? n.event} by {n.channel === 'email' ? 'email' : 'webhook'}, {n.attempts}{' '}
            attempts
          </li>
        ))}
      </ul>
    </div>
  );
}
