/** Audit log (S6): newest first, paged; verify the hash chain; export as JSON lines. Only the rows this role may read. */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../../api.js';
import { Notice } from '../../components/Field.js';
import { Table } from '../../components/Table.js';
import { fmtDateTime } from '../../format.js';
import type { AuditRow, VerifyResult } from '../../types.js';

const PAGE = 50;

/** A change's before/after as compact text; Preact renders it as text, never markup. */
const summary = (v: unknown) => (v === undefined ? '' : JSON.stringify(v).slice(0, 240));

export function AuditLogView() {
  const [entries, setEntries] = useState<AuditRow[]>([]);
  const [more, setMore] = useState(false);
  const [verify, setVerify] = useState<VerifyResult | null>(null);
  const [error, setError] = useState('');

  async function load(before?: string) {
    try {
      const page = await api<AuditRow[]>(
        'GET',
        `/api/audit?limit=${PAGE}${before ? `&before=${encodeURIComponent(before)}` : ''}`,
      );
      setEntries((all) => (before ? [...all, ...page] : page));
      setMore(page.length === PAGE);
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => {
    void load();
  }, []);

  return (
    <section aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit log</h2>
      <p>
        <button
          type="button"
          onClick={() =>
            api<VerifyResult>('GET', '/api/audit/verify').then(setVerify, (e) => setError(errorText(e)))
          }
        >
          Verify the chain
        </button>{' '}
        <a href="/api/audit/export" download>
          Export (JSON lines)
        </a>
      </p>
      <Notice error={error} />
      {verify && (
        <>
          <p role="status" class={verify.ok ? 'ok' : 'error'} data-testid="audit-verify">
            {verify.ok
              ? `✓ Chain intact: every entry checked, ${verify.checked} of them yours to read.`
              : `✗ Chain broken${verify.broken?.at ? ` at the entry of ${fmtDateTime(verify.broken.at)}` : ''}: ${verify.broken?.reason}.`}
          </p>
          <p data-testid="audit-last-sent">
            {verify.lastSent
              ? `A fingerprint of the log (${verify.lastSent.hash}) was sent by email and webhook on ` +
                `${fmtDateTime(verify.lastSent.sentAt)}; the log still ${
                  verify.lastSent.matches ? 'matches it' : 'does not match it'
                }. Compare it with the copy in that email.`
              : 'No fingerprint has been sent yet: set up email or a webhook for notifications, and one is sent daily.'}
          </p>
        </>
      )}
      <Table caption="Changes, newest first" columns={['When', 'Who', 'Action', 'Target', 'Change']}>
        {entries.map((e) => (
          <tr key={e.cursor}>
            <td>{fmtDateTime(e.at)}</td>
            <td>{e.actor}</td>
            <td>{e.action}</td>
            <td>{e.target}</td>
            <td class="change">
              <code>{summary(e.after ?? e.before)}</code>
            </td>
          </tr>
        ))}
      </Table>
      {more && (
        <button type="button" onClick={() => void load(entries[entries.length - 1]?.cursor)}>
          Older entries
        </button>
      )}
    </section>
  );
}
