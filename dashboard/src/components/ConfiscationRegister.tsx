/**
 * Confiscation register (P7): record a phone confiscated into a locker slot, and its return. What is recorded is the
 * locker, the slot and what happened, never whose phone it is (D1). Teachers and senior staff record and return;
 * the office reads the register and records returns, as it hands phones back at the end of the day (S5).
 */
import { useEffect, useState } from 'preact/hooks';
import { useAction } from '../action.js';
import { api, errorText } from '../api.js';
import { fmtDateTime } from '../format.js';
import { useLive } from '../live.js';
import type { Confiscation } from '../types.js';
import { Input, Notice, Select } from './Field.js';
import { Table } from './Table.js';

export function ConfiscationRegister({ roomName }: { roomName: (id: string) => string }) {
  const live = useLive();
  const [open, setOpen] = useState<Confiscation[] | null>(null);
  const [device, setDevice] = useState('');
  const { busy, error, ok, fields, setError, act } = useAction(() => load());
  const write = live.may('confiscations:write');
  const giveBack = live.may('confiscations:return');
  // A pending device has no room yet: nothing can be confiscated into it.
  const lockers = live.devices.filter((d) => d.room !== 'unassigned');
  const chosen = lockers.find((d) => d.device === device) ?? lockers[0];
  const slots = chosen?.locker?.slots ?? 16;

  async function load() {
    try {
      setOpen(await api<Confiscation[]>('GET', '/api/confiscations?open=1'));
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => {
    void load();
  }, []);

  function submit(e: Event) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const body = {
      device: chosen?.device ?? '',
      // Shown from 1, as the slots are labelled on the locker; stored from 0.
      slot: Number(data.get('conf-slot')) - 1,
      note: String(data.get('conf-note') ?? ''),
    };
    void act(() => api('POST', '/api/confiscations', body), 'Confiscation recorded.', form);
  }

  return (
    <section aria-labelledby="conf-heading" data-testid="confiscations">
      <h2 id="conf-heading">Confiscated phones</h2>
      <Notice error={error} ok={ok} />
      {write && lockers.length > 0 && (
        <form class="inline-form" onSubmit={submit} noValidate>
          <p class="hint">Record the locker, the slot and what happened. Never name or describe the pupil.</p>
          <Select
            id="conf-device"
            label="Locker"
            value={chosen?.device ?? ''}
            error={fields.device}
            options={lockers.map((d) => [d.device, `${roomName(d.room)} (${d.device})`] as [string, string])}
            onChange={setDevice}
          />
          <Select
            id="conf-slot"
            label="Slot"
            defaultValue="1"
            error={fields.slot ?? fields._}
            options={Array.from({ length: slots }, (_, i) => String(i + 1))}
          />
          <Input
            id="conf-note"
            label="What happened"
            hint="For example: used during period 2."
            maxLength={200}
            error={fields.note}
          />
          <button type="submit" class="primary" disabled={busy}>
            Record confiscation
          </button>
        </form>
      )}
      {open === null ? (
        <p>Loading…</p>
      ) : open.length === 0 ? (
        <p data-testid="no-confiscations">No phones waiting to be returned.</p>
      ) : (
        <Table
          caption="Waiting to be returned"
          columns={[
            'Room',
            'Slot',
            'What happened',
            'Recorded',
            giveBack && <span class="visually-hidden">Action</span>,
          ]}
        >
          {open.map((c) => (
            <tr key={c.id} data-confiscation={c.id}>
              <th scope="row">{roomName(c.room)}</th>
              <td>{c.slot + 1}</td>
              <td>{c.note}</td>
              <td>
                {fmtDateTime(c.recordedAt)} by {c.recordedBy}
              </td>
              {giveBack && (
                <td>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() =>
                      void act(
                        () => api('POST', `/api/confiscations/${encodeURIComponent(c.id)}/return`, {}),
                        'Marked as returned.',
                      )
                    }
                  >
                    Returned <span class="visually-hidden">(slot {c.slot + 1})</span>
                  </button>
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
