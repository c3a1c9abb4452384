/**
 * Read-only views of the school model: timetable (periods, term dates, INSET days), zones and rooms, and the policy
 * matrix (P8: role × time × zone, as the school's own phone table), for every role that may read the policy. The
 * administrator edits them in TimetableEditor.tsx, ZonesRoomsEditor.tsx and PolicyEditor.tsx.
 */
import { MatrixTable } from '../../components/MatrixTable.js';
import { Table } from '../../components/Table.js';
import { KIND_TEXT, ROLE_TEXT, WEEKDAYS } from '../../school-text.js';
import type { PolicyView } from '../../types.js';

const PERMISSION_TEXT = {
  yes: { mark: '✓', text: 'Yes' },
  no: { mark: '✗', text: 'No' },
  'if-unavoidable': { mark: '~', text: 'Not if avoidable' },
} as const;

const EditNote = () => (
  <p class="hint">Changed by the school's administrator; every change is recorded in the audit log.</p>
);

export function TimetableView({ policy }: { policy: PolicyView }) {
  const t = policy.timetable;
  return (
    <section aria-labelledby="tt-heading">
      <h2 id="tt-heading">Timetable</h2>
      <EditNote />
      <p>
        Open {t.weekdays.map((d) => WEEKDAYS[d]).join(', ')} · arrival {t.arrival} · home time {t.homeTime} ·
        time zone {t.timezone}
      </p>
      <Table caption="Periods" columns={['Period', 'Kind', 'Start', 'End']}>
        {t.periods.map((p) => (
          <tr key={p.id}>
            <th scope="row">{p.name}</th>
            <td>{p.kind}</td>
            <td>{p.start}</td>
            <td>{p.end}</td>
          </tr>
        ))}
      </Table>
      <h3>Terms</h3>
      <ul>
        {t.terms.map((term) => (
          <li key={term.name}>
            {term.name}: {term.start} to {term.end}
          </li>
        ))}
      </ul>
      <h3>INSET days</h3>
      {t.insetDays.length ? <p>{t.insetDays.join(', ')}</p> : <p>None.</p>}
    </section>
  );
}

export function RoomsView({ policy }: { policy: PolicyView }) {
  return (
    <section aria-labelledby="rooms-set-heading">
      <h2 id="rooms-set-heading">Zones and rooms</h2>
      <EditNote />
      {policy.zones.map((z) => (
        <div key={z.id}>
          <h3>
            {z.name} <span class="hint">({KIND_TEXT[z.kind] ?? z.kind})</span>
          </h3>
          <ul>
            {policy.rooms
              .filter((r) => r.zone === z.id)
              .map((r) => (
                <li key={r.id}>
                  {r.name} <span class="hint">({r.id})</span>
                </li>
              ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

export function PolicyMatrix({ policy }: { policy: PolicyView }) {
  const p = policy.policy;
  const cell = (role: 'pupil' | 'staff', time: string, zone: string) =>
    p.matrix.find((r) => r.role === role && r.time === time && r.zone === zone)?.phones;
  return (
    <section aria-labelledby="matrix-heading">
      <h2 id="matrix-heading">Policy</h2>
      <p>
        Preset <strong>{p.preset}</strong> · signage warns {p.warningMinutes} min before a lesson · lockers
        must lock within {p.graceMinutes} min of its start.
      </p>
      <EditNote />
      <p>
        May phones be used? <span aria-hidden="true">✓</span> Yes · <span aria-hidden="true">✗</span> No ·{' '}
        <span aria-hidden="true">~</span> Not if avoidable. Anything not listed is No.
      </p>
      {(['pupil', 'staff'] as const).map((role) => (
        <MatrixTable
          key={role}
          testId={`matrix-${role}`}
          caption={ROLE_TEXT[role]}
          cell={(time, zone) => {
            const v = PERMISSION_TEXT[cell(role, time, zone) ?? 'no'];
            return (
              <td class={`perm perm-${v.text.replaceAll(' ', '-').toLowerCase()}`}>
                <span aria-hidden="true">{v.mark} </span>
                {v.text}
              </td>
            );
          }}
        />
      ))}
    </section>
  );
}
