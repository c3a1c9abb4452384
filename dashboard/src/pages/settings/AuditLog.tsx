/** Audit log (S6): newest first, paged; verify the hash chain; export as JSON lines. */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../../api.js';
import { Notice } from '../../components/Field.js';
import { fmtDateTime } from '../../format.js';
import type { AuditEntry, VerifyResult } from '../../types.js';

const PAGE = 50;

/** A change's before/after as compact text; Preact renders it as text, never markup. */
const summary = (v: unknown) => (v === undefined ? '' : JSON.stringify(v).slice(0, 240));

export function AuditLogView() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [more, setMore] = useState(false);
  const [verify, setVerify] = useState<VerifyResult | null>(null);
  const [error, setError] = useState('');

  async function load(before?: number) {
    try {
      const page = await api<AuditEntry[]>(
        'GET',
        `/api/audit?limit=${PAGE}${before ? `&before=${before}` : ''}`,
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
        <p role="status" class={verify.ok ? 'ok' : 'error'} data-testid="audit-verify">
          {verify.ok
            ? `✓ Chain intact: ${verify.checked} entries checked.`
            : `✗ Chain broken at entry ${verify.broken?.seq}: ${verify.broken?.reason}.`}
        </p>
      )}
      <div class="table-wrap">
        <table>
          <caption>Changes, newest first</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td>{fmtDateTime(e.at)}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>{e.target}</td>
                <td class="change">
                  <code>{summary(e.after ?? e.before)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {more && (
        <button type="button" onClick={() => void load(entries[entries.length - 1]?.seq)}>
          Older entries
        </button>
      )}
    </section>
  );
}
