/**
 * Reports inbox (R2, R3): every incident the role may see, newest first, live; the unacknowledged count and the
 * age of the oldest; a CSV export of the list (no free text: notes stay in the incident's own hand-off export).
 */
import { useEffect, useState } from 'preact/hooks';
import { toCsv } from '../../../shared/csv.js';
import { FailedNotices } from '../components/FailedNotices.js';
import { Table } from '../components/Table.js';
import { fmtAge, fmtDateTime } from '../format.js';
import { STATUS_TEXT } from '../incident-text.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { type InboxItem, isRestricted } from '../types.js';

const KIND_TEXT = { report: 'Report button', tamper: 'Tamper alert' } as const;

/** Shown instead of a report's details to the head until the coordinator or DSL has read it. */
const RESTRICTED_TEXT = 'Waiting for the coordinator or DSL';

function csv(rows: InboxItem[]): string {
  const head = ['ref', 'kind', 'room', 'urgency', 'received', 'status', 'routed_to', 'category'];
  return toCsv([
    head,
    ...rows.map((i) =>
      isRestricted(i)
        ? ['', '', '', '', new Date(i.receivedAt).toISOString(), i.status, '', '']
        : [
            i.ref,
            i.kind,
            i.room,
            i.urgency,
            new Date(i.receivedAt).toISOString(),
            i.status,
            i.routeTo ?? 'coordinator',
            i.category,
          ],
    ),
  ]);
}

export function Reports() {
  const live = useLive();
  const [filter, setFilter] = useState<'open' | 'closed' | 'all'>('open');
  const [now, setNow] = useState(Date.now());
  const [download, setDownload] = useState('');
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  const all = live.incidents ?? [];
  const unack = all.filter((i) => i.status === 'reported');
  const oldest = unack.reduce<number | null>(
    (m, i) => (m === null ? i.receivedAt : Math.min(m, i.receivedAt)),
    null,
  );
  const shown = all.filter((i) => filter === 'all' || (filter === 'closed') === (i.status === 'closed'));

  useEffect(() => {
    const url = URL.createObjectURL(new Blob([csv(shown)], { type: 'text/csv' }));
    setDownload(url);
    return () => URL.revokeObjectURL(url);
  }, [live.incidents, filter]);

  return (
    <section aria-labelledby="reports-heading">
      <h1 id="reports-heading">Reports</h1>
      <FailedNotices />
      <p class="summary">
        <span class="badge" data-testid="unacknowledged-count">
          {unack.length} unacknowledged
        </span>{' '}
        {oldest !== null && <span>Oldest waiting: {fmtAge(now - oldest)}</span>}
      </p>
      <fieldset class="filters">
        <legend>Show</legend>
        {(['open', 'closed', 'all'] as const).map((f) => (
          <label key={f}>
            <input
              type="radio"
              name="status"
              value={f}
              checked={filter === f}
              onChange={() => setFilter(f)}
            />{' '}
            {f === 'open' ? 'Open' : f === 'closed' ? 'Closed' : 'All'}
          </label>
        ))}
      </fieldset>
      <p>
        <a href={download} download="incidents.csv">
          Export this list (CSV)
        </a>
      </p>
      {live.incidents === null ? (
        <p>Loading…</p>
      ) : shown.length === 0 ? (
        <p>No reports.</p>
      ) : (
        <Table
          caption="Incidents, newest first"
          hiddenCaption
          columns={['Ref', 'Kind', 'Room', 'Urgency', 'Received', 'Age', 'Status', 'With']}
          class="inbox"
        >
          {shown.map((i) =>
            isRestricted(i) ? (
              <tr key={i.id} class="new restricted">
                <th scope="row">–</th>
                <td colSpan={3}>{RESTRICTED_TEXT}</td>
                <td>
                  <time dateTime={new Date(i.receivedAt).toISOString()}>{fmtDateTime(i.receivedAt)}</time>
                </td>
                <td>{i.status === 'reported' ? fmtAge(now - i.receivedAt) : '–'}</td>
                <td>{STATUS_TEXT[i.status]}</td>
                <td>coordinator</td>
              </tr>
            ) : (
              <tr key={i.id} data-ref={i.ref} class={i.status === 'reported' ? 'new' : undefined}>
                <th scope="row">
                  <a href={href('reports', i.ref)}>{i.ref}</a>
                </th>
                <td>{KIND_TEXT[i.kind]}</td>
                <td>{i.room}</td>
                <td>{i.urgency === 'urgent' ? <strong>‼ Urgent</strong> : 'Normal'}</td>
                <td>
                  <time dateTime={new Date(i.receivedAt).toISOString()}>{fmtDateTime(i.receivedAt)}</time>
                </td>
                <td>{i.status === 'reported' ? fmtAge(now - i.receivedAt) : '–'}</td>
                <td>
                  {i.status === 'reported' && <span aria-hidden="true">● </span>}
                  {STATUS_TEXT[i.status]}
                  {i.escalatedAt !== undefined && ' · escalated'}
                </td>
                <td>{i.routeTo ?? 'coordinator'}</td>
              </tr>
            ),
          )}
        </Table>
      )}
    </section>
  );
}
