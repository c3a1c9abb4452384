/**
 * Account changes waiting for a second person (S5): granting or removing a role that reads reports, or resetting
 * such an account. The headteacher or DSL approves or refuses; the administrator who asked sees them and may withdraw
 * them. Nobody approves their own request or a change to their own account (the hub refuses; the page says so).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../../api.js';
import { Notice } from '../../components/Field.js';
import { fmtDateTime } from '../../format.js';
import { useLive } from '../../live.js';
import type { PendingView } from '../../types.js';

export function Approvals({ reload = 0 }: { reload?: number }) {
  const live = useLive();
  const [pending, setPending] = useState<PendingView[] | null>(null);
  const [error, setError] = useState('');
  const [ok, setOk] = useState('');
  const me = live.session.username;
  const approver = live.may('accounts:approve');

  const load = () =>
    api<PendingView[]>('GET', '/api/approvals').then(setPending, (e) => setError(errorText(e)));
  useEffect(() => {
    void load();
  }, [reload]);

  async function decide(p: PendingView, verb: 'approve' | 'refuse', done: string) {
    setError('');
    setOk('');
    try {
      await api('POST', `/api/approvals/${p.id}/${verb}`);
      setOk(done);
    } catch (e) {
      setError(errorText(e));
    }
    await load();
  }

  return (
    <section aria-labelledby="approvals-heading">
      <h2 id="approvals-heading">Account changes waiting for approval</h2>
      <p class="hint">
        Changes that let someone read safeguarding reports, or reset such an account, take effect only when
        the headteacher or the designated safeguarding lead approves them. Nobody approves their own request
        or a change to their own account.
      </p>
      <Notice error={error} ok={ok} />
      {pending === null ? (
        <p>Loading…</p>
      ) : pending.length === 0 ? (
        <p data-testid="no-approvals">Nothing is waiting.</p>
      ) : (
        <ul class="approvals" data-testid="approvals">
          {pending.map((p) => {
            const mine = p.requestedBy === me;
            const aboutMe = p.username === me;
            return (
              <li key={p.id} data-username={p.username}>
                <p>
                  <strong>{p.requestedBy}</strong> asked to {p.description}.{' '}
                  <time dateTime={new Date(p.requestedAt).toISOString()}>{fmtDateTime(p.requestedAt)}</time>
                </p>
                {approver && !mine && !aboutMe && (
                  <>
                    <button
                      type="button"
                      class="primary"
                      onClick={() => void decide(p, 'approve', `Approved: ${p.description}.`)}
                    >
                      Approve<span class="visually-hidden">: {p.description}</span>
                    </button>{' '}
                    <button
                      type="button"
                      onClick={() => void decide(p, 'refuse', `Refused: ${p.description}.`)}
                    >
                      Refuse<span class="visually-hidden">: {p.description}</span>
                    </button>
                  </>
                )}
                {approver && (mine || aboutMe) && (
                  <p class="hint">
                    {mine ? 'You asked for this change' : 'This change is to your own account'}: someone else
                    must approve it.
                  </p>
                )}
                {mine && (
                  <button
                    type="button"
                    onClick={() => void decide(p, 'refuse', `Withdrawn: ${p.description}.`)}
                  >
                    Withdraw<span class="visually-hidden">: {p.description}</span>
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
