/**
 * Exemptions register (P6): authorised phone use for one room, period and date, with who asked, who granted and why.
 * Teachers request; only the Headteacher grants or withdraws (a requester may withdraw their own request).
 */
import { useEffect, useState } from 'preact/hooks';
import { useAction } from '../../action.js';
import { api, errorText } from '../../api.js';
import { Input, Notice, Select, TextArea } from '../../components/Field.js';
import { Table } from '../../components/Table.js';
import { addDays, fmtDateTime, isoDate, who } from '../../format.js';
import { useLive } from '../../live.js';
import type { ExemptionView, PolicyView } from '../../types.js';

const STATUS_TEXT = { requested: 'Requested', granted: 'Granted', revoked: 'Withdrawn', expired: 'Expired' };

export function Exemptions({ policy }: { policy: PolicyView }) {
  const live = useLive();
  const today = isoDate(new Date());
  const [list, setList] = useState<ExemptionView[] | null>(null);
  const { error, ok, fields, setError, act } = useAction(() => load());
  const grant = live.may('exemptions:grant');

  async function load() {
    try {
      setList(
        await api<ExemptionView[]>(
          'GET',
          `/api/exemptions?from=${addDays(today, -30)}&to=${addDays(today, 60)}`,
        ),
      );
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => {
    void load();
  }, []);

  const roomName = (id: string) => policy.rooms.find((r) => r.id === id)?.name ?? id;
  const periodName = (id: string) => policy.timetable.periods.find((p) => p.id === id)?.name ?? id;

  return (
    <section aria-labelledby="ex-heading">
      <h2 id="ex-heading">Exemptions register</h2>
      <Notice error={error} ok={ok} />
      {live.may('exemptions:request') && (
        <form
          aria-labelledby="ex-new-heading"
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            const form = event.currentTarget as HTMLFormElement;
            const data = new FormData(form);
            void act(
              () =>
                api('POST', '/api/exemptions', {
                  room: String(data.get('ex-room')),
                  period: String(data.get('ex-period')),
                  date: String(data.get('ex-date')),
                  reason: String(data.get('ex-reason')),
                }),
              grant ? 'Exemption granted.' : 'Exemption requested: the Headteacher will decide.',
              form,
            );
          }}
        >
          <h3 id="ex-new-heading">{grant ? 'Grant an exemption' : 'Request an exemption'}</h3>
          <Select
            id="ex-room"
            label="Room"
            options={policy.rooms.map((r) => [r.id, r.name])}
            required
            error={fields.room}
          />
          <Select
            id="ex-period"
            label="Period"
            options={policy.timetable.periods.map((p) => [p.id, `${p.name} (${p.start}–${p.end})`])}
            required
            error={fields.period}
          />
          <Input id="ex-date" label="Date" type="date" defaultValue={today} required error={fields.date} />
          <TextArea
            id="ex-reason"
            label="Reason"
            hint="What the phones are for, e.g. a curriculum activity. Never name a pupil."
            required
            minLength={3}
            maxLength={200}
            rows={2}
            error={fields.reason}
          />
          <button type="submit" class="primary">
            {grant ? 'Grant' : 'Request'}
          </button>
        </form>
      )}
      {!list ? (
        <p>Loading…</p>
      ) : list.length === 0 ? (
        <p>No exemptions from the last 30 days or the next 60.</p>
      ) : (
        <Table
          caption="Exemptions, last 30 days to next 60"
          columns={['Date', 'Room', 'Period', 'Reason', 'Asked by', 'Status', 'Actions']}
        >
          {list.map((e) => (
            <tr key={e.id}>
              <td>{e.date}</td>
              <td>{roomName(e.room)}</td>
              <td>{periodName(e.period)}</td>
              <td>{e.reason}</td>
              <td>
                {who(e.requestedBy)}, {fmtDateTime(e.requestedAt)}
              </td>
              <td>
                {STATUS_TEXT[e.status]}
                {e.grantedBy && e.status !== 'requested' && ` (granted by ${who(e.grantedBy)})`}
                {e.revokedBy && ` by ${who(e.revokedBy)}`}
              </td>
              <td>
                {grant && e.status === 'requested' && (
                  <button
                    type="button"
                    onClick={() => void act(() => api('POST', `/api/exemptions/${e.id}/grant`), 'Granted.')}
                  >
                    Grant
                    <span class="visually-hidden">
                      {' '}
                      {roomName(e.room)} {e.date}
                    </span>
                  </button>
                )}{' '}
                {(e.status === 'granted' || e.status === 'requested') &&
                  (grant || e.requestedBy === live.session.username) && (
                    <button
                      type="button"
                      class="danger"
                      onClick={() =>
                        void act(() => api('POST', `/api/exemptions/${e.id}/revoke`, {}), 'Withdrawn.')
                      }
                    >
                      Withdraw
                      <span class="visually-hidden">
                        {' '}
                        {roomName(e.room)} {e.date}
                      </span>
                    </button>
                  )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
