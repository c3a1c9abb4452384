/**
 * Fleet updates, on the Devices page: the releases the hub holds (signed, checked on upload), and the roll-out. The
 * admin picks a version, then one room, then a percentage of the classrooms, then everyone; each device's progress
 * shows in plain words, with the reason when one was refused or went back to its earlier version. A roll-out that
 * stopped by itself says why.
 */
import { useEffect, useState } from 'preact/hooks';
import { useAction } from '../action.js';
import { api, errorText } from '../api.js';
import { fmtDateTime } from '../format.js';
import type { FleetUpdatesView, PolicyView } from '../types.js';
import { Input, Notice, Select } from './Field.js';
import { Table } from './Table.js';

const STAGE_WORDS: Record<string, string> = {
  offered: 'Offered',
  waiting: 'Waiting for the lesson to end',
  downloading: 'Downloading',
  verifying: 'Checking the signature',
  restarting: 'Restarting',
  installed: 'Installed',
  refused: 'Refused',
  'rolled-back': 'Went back to the earlier version',
  withdrawn: 'No longer offered',
};

const STATUS_WORDS: Record<string, string> = {
  running: 'In progress',
  halted: 'Stopped by itself',
  stopped: 'Stopped',
};

export function FleetUpdates({ admin, policy }: { admin: boolean; policy: PolicyView | null }) {
  const [view, setView] = useState<FleetUpdatesView | null>(null);
  const { error, ok, fields, setError, act, busy } = useAction(() => load());
  // The next step of the roll-out, read from the form that offers it.
  const widenWith = (step: (data: FormData) => Record<string, unknown>, done: string) => (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    void act(() => api('POST', '/api/updates/rollout/widen', step(data)), done);
  };

  async function load() {
    try {
      setView(await api<FleetUpdatesView>('GET', '/api/updates'));
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => {
    void load();
  }, []);

  const rollout = view?.rollout ?? null;
  const running = rollout?.status === 'running';
  const last = rollout?.steps.at(-1);
  const roomName = (id: string) => policy?.rooms.find((r) => r.id === id)?.name ?? id;
  const devices = Object.entries(rollout?.devices ?? {}).sort(([a], [b]) => a.localeCompare(b));

  return (
    <section aria-labelledby="updates-heading">
      <h2 id="updates-heading">Software updates</h2>
      <p>
        A new version is accepted only if it carries the school's signature; each classroom checks it again
        itself. Try it in one room first, then a share of the classrooms, then everyone. A classroom never
        updates while its locker is locked for a lesson.
      </p>
      <Notice error={error} ok={ok} />
      {admin && (
        <form
          class="inline-form"
          aria-label="Upload a new version"
          onSubmit={(event) => {
            event.preventDefault();
            const form = event.currentTarget as HTMLFormElement;
            const file = (form.elements.namedItem('bundle') as HTMLInputElement).files?.[0];
            if (!file) return;
            void act(
              () => api('POST', '/api/updates/releases', file),
              'Version accepted: the signature is good.',
              form,
            );
          }}
        >
          <Input id="bundle" label="New version (signed bundle file)" type="file" required />
          <button type="submit" disabled={busy}>
            Upload
          </button>
        </form>
      )}
      {view && view.releases.length === 0 && <p>No versions uploaded yet.</p>}
      {view && view.releases.length > 0 && (
        <ul>
          {view.releases.map((r) => (
            <li key={r.version}>
              Version {r.version}, uploaded {fmtDateTime(r.addedAt)} by {r.addedBy}
            </li>
          ))}
        </ul>
      )}
      {admin && !running && view && view.releases.length > 0 && (
        <form
          class="inline-form"
          aria-label="Start an update"
          onSubmit={(event) => {
            event.preventDefault();
            const data = new FormData(event.currentTarget as HTMLFormElement);
            void act(
              () =>
                api('POST', '/api/updates/rollout', {
                  version: String(data.get('version')),
                  downgrade: data.get('downgrade') === 'on',
                }),
              'Update started. Now choose the first room.',
            );
          }}
        >
          <Select
            id="version"
            label="Version"
            options={view.releases.map((r) => r.version)}
            required
            error={fields.version}
          />
          <Input
            id="downgrade"
            label="Go back to an older version (recorded in the audit log)"
            type="checkbox"
          />
          <button type="submit" class="primary" disabled={busy}>
            Start update
          </button>
        </form>
      )}
      {rollout && (
        <section aria-labelledby="rollout-heading">
          <h3 id="rollout-heading">
            Version {rollout.version}: {STATUS_WORDS[rollout.status] ?? rollout.status}
          </h3>
          {rollout.haltReason && (
            <p role="alert">
              Stopped by itself: {rollout.haltReason}. Classrooms that had not started keep their version.
            </p>
          )}
          <p>
            {rollout.steps.length === 0
              ? 'Not offered to any classroom yet.'
              : `Offered to: ${rollout.steps
                  .map((s) =>
                    s.kind === 'room'
                      ? roomName(s.room)
                      : s.kind === 'percent'
                        ? `${s.percent}% of classrooms`
                        : 'everyone',
                  )
                  .join(', then ')}.`}
          </p>
          {admin && running && (
            <div class="inline-form">
              {!last && (
                <form
                  aria-label="Offer to one room"
                  onSubmit={widenWith(
                    (data) => ({ kind: 'room', room: String(data.get('room')) }),
                    'Offered to the room.',
                  )}
                >
                  <Select
                    id="room"
                    label="First room"
                    options={(policy?.rooms ?? []).map((r) => [r.id, r.name])}
                    required
                  />
                  <button type="submit" disabled={busy}>
                    Offer to this room
                  </button>
                </form>
              )}
              {last && last.kind !== 'everyone' && (
                <form
                  aria-label="Offer to a share of classrooms"
                  onSubmit={widenWith(
                    (data) => ({ kind: 'percent', percent: Number(data.get('percent')) }),
                    'Offered to more classrooms.',
                  )}
                >
                  <Input
                    id="percent"
                    label="Share of classrooms (%)"
                    type="number"
                    min={1}
                    max={100}
                    defaultValue="25"
                  />
                  <button type="submit" disabled={busy}>
                    Offer to this share
                  </button>
                </form>
              )}
              {last && last.kind === 'percent' && (
                <button
                  type="button"
                  disabled={busy}
                  onClick={() =>
                    void act(
                      () => api('POST', '/api/updates/rollout/widen', { kind: 'everyone' }),
                      'Offered to every classroom.',
                    )
                  }
                >
                  Offer to everyone
                </button>
              )}
              <button
                type="button"
                class="danger"
                disabled={busy}
                onClick={() => void act(() => api('POST', '/api/updates/rollout/stop'), 'Update stopped.')}
              >
                Stop update
              </button>
            </div>
          )}
          {devices.length > 0 && (
            <Table labelledBy="rollout-heading" columns={['Device', 'Room', 'Progress', 'Running', 'Since']}>
              {devices.map(([id, p]) => (
                <tr key={id} data-update-row={id}>
                  <th scope="row">{id}</th>
                  <td>{roomName(p.room)}</td>
                  <td>
                    {STAGE_WORDS[p.stage] ?? p.stage}
                    {p.reason ? `: ${p.reason}` : ''}
                  </td>
                  <td>{p.running ?? '–'}</td>
                  <td>{fmtDateTime(p.at)}</td>
                </tr>
              ))}
            </Table>
          )}
          {admin && (
            <p>
              <button type="button" onClick={() => void load()}>
                Refresh progress
              </button>
            </p>
          )}
        </section>
      )}
    </section>
  );
}
