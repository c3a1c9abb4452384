/**
 * Pupils' phones stored in the office (P2): only the Headteacher releases them before home time, for one room, with a
 * reason, and locks them again; each step is recorded in the audit log. An exemption never does this.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import type { PolicyView } from '../types.js';
import { Input, Notice } from './Field.js';

export function StoredPhones({
  policy,
  roomName,
  onChanged,
}: {
  policy: PolicyView;
  roomName: (id: string) => string;
  onChanged: () => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [ok, setOk] = useState('');
  const rooms = [...new Set(policy.devices.filter((d) => d.lockerMode === 'day-storage').map((d) => d.room))];
  if (rooms.length === 0) return null;
  const released = (room: string) =>
    policy.devices.some(
      (d) => d.room === room && d.lockerMode === 'day-storage' && d.directive.reason === 'staff',
    );

  async function run(path: string, body: unknown, done: string) {
    setBusy(true);
    setError('');
    try {
      await api('POST', path, body);
      setOk(done);
      await onChanged();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="stored-heading" data-testid="stored-phones">
      <h2 id="stored-heading">Phones stored in the office</h2>
      <Notice error={error} ok={ok} />
      {rooms.map((room) =>
        released(room) ? (
          <p key={room}>
            {roomName(room)}: <strong>released</strong> by you until you lock it again or home time.{' '}
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                void run(
                  '/api/stored-phones/relock',
                  { room },
                  `${roomName(room)}: stored phones locked again.`,
                )
              }
            >
              Lock stored phones again
            </button>
          </p>
        ) : (
          <form
            key={room}
            class="inline-form"
            aria-label={`Release stored phones in ${roomName(room)}`}
            onSubmit={(event) => {
              event.preventDefault();
              const data = new FormData(event.currentTarget as HTMLFormElement);
              void run(
                '/api/stored-phones/release',
                { room, reason: String(data.get(`stored-reason-${room}`) ?? ''), confirm: true },
                `${roomName(room)}: stored phones released. This is recorded with your name.`,
              );
            }}
          >
            <Input
              id={`stored-reason-${room}`}
              label={`Why release the phones stored in ${roomName(room)} now? (never name a pupil)`}
              required
              minLength={3}
              maxLength={200}
            />
            <button type="submit" class="danger" disabled={busy}>
              Release stored phones
            </button>
          </form>
        ),
      )}
    </section>
  );
}
