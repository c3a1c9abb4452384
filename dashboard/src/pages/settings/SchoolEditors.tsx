/**
 * The administrator's editors for the school model (S5: 'school:write'): timetable (periods, term dates, INSET days),
 * zones and rooms (P3), and the policy preset and matrix (P8). The hub checks each save as a whole new model and
 * answers `path: message` problems; each is shown beside its field. Every save is audited by the hub (S6) and the
 * devices get their new schedules at once.
 */
import { useState } from 'preact/hooks';
import { api, errorText, fieldErrors } from '../../api.js';
import { CellInput, CellSelect } from '../../components/Cell.js';
import { EditableRows, patchAt, removeAt } from '../../components/EditableRows.js';
import { Input, Notice, Select, TextArea } from '../../components/Field.js';
import { type PolicyView, type SchoolModel, TIME_KINDS, ZONE_KINDS } from '../../types.js';
import { KIND_TEXT, MatrixTable, ROLE_TEXT, TIME_TEXT, WEEKDAYS } from './SchoolViews.js';

type Timetable = SchoolModel['timetable'];
type Policy = SchoolModel['policy'];

const PERIOD_KINDS = ['registration', 'assembly', 'lesson', 'break', 'lunch'] as const;
const PHONES = [
  ['no', 'No'],
  ['yes', 'Yes'],
  ['if-unavoidable', 'Not if avoidable'],
] as const;

/** Saving with errors kept per field; `placed` says which field keys the form shows beside a control. */
function useSave(onSaved: () => Promise<void>, placed: RegExp) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [ok, setOk] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  async function save(call: () => Promise<unknown>, done: string) {
    setBusy(true);
    setError('');
    setOk('');
    setFields({});
    try {
      await call();
      await onSaved();
      setOk(done);
    } catch (e) {
      setError(errorText(e));
      setFields(fieldErrors(e));
    } finally {
      setBusy(false);
    }
  }
  const rest = Object.entries(fields).filter(([k]) => !placed.test(k));
  const notice = (
    <>
      <Notice error={error} ok={ok} />
      {rest.length > 0 && (
        <ul class="field-error" data-testid="other-errors">
          {rest.map(([k, m]) => (
            <li key={k}>{k === '_' ? m : `${k}: ${m}`}</li>
          ))}
        </ul>
      )}
    </>
  );
  return { busy, fields, save, notice };
}

const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}`;

/** The section's version this page loaded: the hub refuses the save (409) if someone else has saved it since. */
const ifMatch = (
  policy: PolicyView,
  section: keyof NonNullable<PolicyView['versions']>,
): Record<string, string> => {
  const version = policy.versions?.[section];
  return version ? { 'if-match': `"${version}"` } : {};
};

export function TimetableEditor({ policy, onSaved }: { policy: PolicyView; onSaved: () => Promise<void> }) {
  const [tt, setTt] = useState<Timetable>(() => structuredClone(policy.timetable));
  const [inset, setInset] = useState(policy.timetable.insetDays.join('\n'));
  const { busy, fields, save, notice } = useSave(
    onSaved,
    /^(timezone|arrival|homeTime|weekdays|insetDays(\.\d+)?|periods\.\d+\.(name|kind|start|end)|terms\.\d+\.(name|start|end))$/,
  );
  const set = (patch: Partial<Timetable>) => setTt({ ...tt, ...patch });
  const setPeriod = (i: number, patch: Partial<Timetable['periods'][number]>) =>
    set({ periods: patchAt(tt.periods, i, patch) });
  const setTerm = (i: number, patch: Partial<Timetable['terms'][number]>) =>
    set({ terms: patchAt(tt.terms, i, patch) });
  const insetError = Object.entries(fields)
    .filter(([k]) => k.startsWith('insetDays'))
    .map(([k, m]) => (k === 'insetDays' ? m : `line ${Number(k.split('.')[1]) + 1}: ${m}`))
    .join('; ');

  function submit(e: Event) {
    e.preventDefault();
    const body: Timetable = {
      ...tt,
      insetDays: inset
        .split(/[\s,]+/)
        .map((d) => d.trim())
        .filter(Boolean),
    };
    void save(
      () => api('PUT', '/api/school/timetable', body, ifMatch(policy, 'timetable')),
      'Timetable saved. Devices have their new schedules.',
    );
  }

  return (
    <section aria-labelledby="tt-edit-heading">
      <h2 id="tt-edit-heading">Timetable</h2>
      <p class="hint">Times are 24-hour, such as 09:05. Every change is recorded in the audit log.</p>
      <form onSubmit={submit} noValidate>
        <div class="inline-form">
          <Input
            id="timezone"
            label="Time zone"
            value={tt.timezone}
            error={fields.timezone}
            onInput={(e) => set({ timezone: e.currentTarget.value })}
          />
          <Input
            id="arrival"
            label="Arrival"
            value={tt.arrival}
            error={fields.arrival}
            inputMode="numeric"
            onInput={(e) => set({ arrival: e.currentTarget.value })}
          />
          <Input
            id="homeTime"
            label="Home time"
            value={tt.homeTime}
            error={fields.homeTime}
            inputMode="numeric"
            onInput={(e) => set({ homeTime: e.currentTarget.value })}
          />
        </div>
        <fieldset>
          <legend>Days the school is open</legend>
          {WEEKDAYS.slice(1).map((name, k) => (
            <label class="check" key={name}>
              <input
                type="checkbox"
                checked={tt.weekdays.includes(k + 1)}
                onChange={(e) =>
                  set({
                    weekdays: e.currentTarget.checked
                      ? [...tt.weekdays, k + 1].sort()
                      : tt.weekdays.filter((d) => d !== k + 1),
                  })
                }
              />{' '}
              {name}
            </label>
          ))}
          {fields.weekdays && <p class="field-error">✗ {fields.weekdays}</p>}
        </fieldset>
        <EditableRows
          caption="Periods"
          columns={['Name', 'Kind', 'Start', 'End']}
          rows={tt.periods}
          name={(p, i) => p.name || `Row ${i + 1}`}
          rowKey={(p) => p.id}
          onRemove={(i) => set({ periods: removeAt(tt.periods, i) })}
          cells={(p, i, name) => (
            <>
              <td>
                <CellInput
                  id={`periods-${i}-name`}
                  label={`${name} name`}
                  value={p.name}
                  error={fields[`periods.${i}.name`]}
                  onInput={(e) => setPeriod(i, { name: e.currentTarget.value })}
                />
              </td>
              <td>
                <CellSelect
                  id={`periods-${i}-kind`}
                  label={`${name} kind`}
                  value={p.kind}
                  error={fields[`periods.${i}.kind`]}
                  options={PERIOD_KINDS.map((k) => [k, k] as const)}
                  onChange={(v) => setPeriod(i, { kind: v as (typeof PERIOD_KINDS)[number] })}
                />
              </td>
              <td>
                <CellInput
                  id={`periods-${i}-start`}
                  label={`${name} start`}
                  value={p.start}
                  size={6}
                  inputMode="numeric"
                  error={fields[`periods.${i}.start`]}
                  onInput={(e) => setPeriod(i, { start: e.currentTarget.value })}
                />
              </td>
              <td>
                <CellInput
                  id={`periods-${i}-end`}
                  label={`${name} end`}
                  value={p.end}
                  size={6}
                  inputMode="numeric"
                  error={fields[`periods.${i}.end`]}
                  onInput={(e) => setPeriod(i, { end: e.currentTarget.value })}
                />
              </td>
            </>
          )}
        />
        <button
          type="button"
          onClick={() =>
            set({
              periods: [...tt.periods, { id: newId('period'), name: '', kind: 'lesson', start: '', end: '' }],
            })
          }
        >
          Add a period
        </button>
        <EditableRows
          caption="Terms"
          columns={['Name', 'First day', 'Last day']}
          rows={tt.terms}
          name={(t, i) => t.name || `Term ${i + 1}`}
          onRemove={(i) => set({ terms: removeAt(tt.terms, i) })}
          cells={(t, i, name) => (
            <>
              <td>
                <CellInput
                  id={`terms-${i}-name`}
                  label={`${name} name`}
                  value={t.name}
                  error={fields[`terms.${i}.name`]}
                  onInput={(e) => setTerm(i, { name: e.currentTarget.value })}
                />
              </td>
              <td>
                <CellInput
                  id={`terms-${i}-start`}
                  label={`${name} first day`}
                  type="date"
                  value={t.start}
                  error={fields[`terms.${i}.start`]}
                  onInput={(e) => setTerm(i, { start: e.currentTarget.value })}
                />
              </td>
              <td>
                <CellInput
                  id={`terms-${i}-end`}
                  label={`${name} last day`}
                  type="date"
                  value={t.end}
                  error={fields[`terms.${i}.end`]}
                  onInput={(e) => setTerm(i, { end: e.currentTarget.value })}
                />
              </td>
            </>
          )}
        />
        <button type="button" onClick={() => set({ terms: [...tt.terms, { name: '', start: '', end: '' }] })}>
          Add a term
        </button>
        <TextArea
          id="insetDays"
          label="INSET days"
          hint="One date a line, such as 2026-09-01."
          rows={4}
          value={inset}
          error={insetError || undefined}
          onInput={(e) => setInset(e.currentTarget.value)}
        />
        {notice}
        <button type="submit" class="primary" disabled={busy}>
          Save timetable
        </button>
      </form>
    </section>
  );
}

/** A zone or room row's identifier (fixed once saved, P3) and name cells. */
function IdNameCells(props: {
  list: 'zones' | 'rooms';
  noun: 'Zone' | 'Room';
  row: { id: string; name: string };
  i: number;
  name: string;
  saved: boolean;
  fields: Record<string, string>;
  put: (patch: { id?: string; name?: string }) => void;
}) {
  const { list, noun, row, i, name, saved, fields, put } = props;
  return (
    <>
      <td>
        {saved ? (
          <code>{row.id}</code>
        ) : (
          <CellInput
            id={`${list}-${i}-id`}
            label={`${name} identifier`}
            value={row.id}
            error={fields[`${list}.${i}.id`]}
            onInput={(e) => put({ id: e.currentTarget.value })}
          />
        )}
      </td>
      <td>
        <CellInput
          id={`${list}-${i}-name`}
          // By position, not by name, so the label does not change while the name is typed.
          label={`${noun} ${i + 1} name`}
          value={row.name}
          error={fields[`${list}.${i}.name`]}
          onInput={(e) => put({ name: e.currentTarget.value })}
        />
      </td>
    </>
  );
}

export function ZonesRoomsEditor({ policy, onSaved }: { policy: PolicyView; onSaved: () => Promise<void> }) {
  const [zones, setZones] = useState(() => structuredClone(policy.zones));
  const [rooms, setRooms] = useState(() => structuredClone(policy.rooms));
  const known = new Set([...policy.zones.map((z) => `z:${z.id}`), ...policy.rooms.map((r) => `r:${r.id}`)]);
  const { busy, fields, save, notice } = useSave(
    onSaved,
    /^(zones|rooms|zones\.\d+\.(id|name|kind)|rooms\.\d+\.(id|name|zone))$/,
  );
  const zoneOptions = zones.map((z) => [z.id, z.name || z.id] as const);

  function submit(e: Event) {
    e.preventDefault();
    void save(
      () => api('PUT', '/api/school/zones-rooms', { zones, rooms }, ifMatch(policy, 'zones-rooms')),
      'Zones and rooms saved.',
    );
  }

  return (
    <section aria-labelledby="zr-edit-heading">
      <h2 id="zr-edit-heading">Zones and rooms</h2>
      <p class="hint">
        A zone says where phones may be used; a room belongs to one zone. A zone with rooms, or a room with a
        device, cannot be removed. Identifiers use lower-case letters, digits and hyphens and cannot change
        once saved.
      </p>
      <form onSubmit={submit} noValidate>
        <EditableRows
          caption="Zones"
          columns={['Identifier', 'Name', 'Kind']}
          rows={zones}
          name={(z, i) => z.name || `Zone ${i + 1}`}
          onRemove={(i) => setZones(removeAt(zones, i))}
          cells={(z, i, name) => {
            const put = (patch: Partial<typeof z>) => setZones(patchAt(zones, i, patch));
            return (
              <>
                <IdNameCells
                  list="zones"
                  noun="Zone"
                  row={z}
                  i={i}
                  name={name}
                  saved={known.has(`z:${z.id}`)}
                  fields={fields}
                  put={put}
                />
                <td>
                  <CellSelect
                    id={`zones-${i}-kind`}
                    label={`${name} kind`}
                    value={z.kind}
                    error={fields[`zones.${i}.kind`]}
                    options={ZONE_KINDS.map((k) => [k, KIND_TEXT[k] ?? k] as const)}
                    onChange={(v) => put({ kind: v as (typeof ZONE_KINDS)[number] })}
                  />
                </td>
              </>
            );
          }}
        />
        {fields.zones && (
          <p class="field-error" data-testid="zones-error">
            ✗ {fields.zones}
          </p>
        )}
        <button type="button" onClick={() => setZones([...zones, { id: '', name: '', kind: 'curriculum' }])}>
          Add a zone
        </button>
        <EditableRows
          caption="Rooms"
          columns={['Identifier', 'Name', 'Zone']}
          rows={rooms}
          name={(r, i) => r.name || `Room ${i + 1}`}
          onRemove={(i) => setRooms(removeAt(rooms, i))}
          cells={(r, i, name) => {
            const put = (patch: Partial<typeof r>) => setRooms(patchAt(rooms, i, patch));
            return (
              <>
                <IdNameCells
                  list="rooms"
                  noun="Room"
                  row={r}
                  i={i}
                  name={name}
                  saved={known.has(`r:${r.id}`)}
                  fields={fields}
                  put={put}
                />
                <td>
                  <CellSelect
                    id={`rooms-${i}-zone`}
                    label={`${name} zone`}
                    value={r.zone}
                    error={fields[`rooms.${i}.zone`]}
                    options={
                      zoneOptions.some(([v]) => v === r.zone)
                        ? zoneOptions
                        : [[r.zone, r.zone], ...zoneOptions]
                    }
                    onChange={(v) => put({ zone: v })}
                  />
                </td>
              </>
            );
          }}
        />
        {fields.rooms && (
          <p class="field-error" data-testid="rooms-error">
            ✗ {fields.rooms}
          </p>
        )}
        <button
          type="button"
          onClick={() => setRooms([...rooms, { id: '', name: '', zone: zones[0]?.id ?? '' }])}
        >
          Add a room
        </button>
        {notice}
        <button type="submit" class="primary" disabled={busy}>
          Save zones and rooms
        </button>
      </form>
    </section>
  );
}

const cellKey = (role: string, time: string, zone: string) => `${role} ${time} ${zone}`;

export function PolicyEditor({ policy, onSaved }: { policy: PolicyView; onSaved: () => Promise<void> }) {
  const p = policy.policy;
  const [warning, setWarning] = useState(String(p.warningMinutes));
  const [grace, setGrace] = useState(String(p.graceMinutes));
  const [cells, setCells] = useState(
    () => new Map(p.matrix.map((r) => [cellKey(r.role, r.time, r.zone), r.phones] as const)),
  );
  const [preset, setPreset] = useState<'seed' | 'dfe-2026'>('dfe-2026');
  const { busy, fields, save, notice } = useSave(onSaved, /^(warningMinutes|graceMinutes)$/);

  function submit(e: Event) {
    e.preventDefault();
    const matrix: Policy['matrix'] = (['pupil', 'staff'] as const).flatMap((role) =>
      TIME_KINDS.flatMap((time) =>
        ZONE_KINDS.map((zone) => ({
          role,
          time,
          zone,
          phones: cells.get(cellKey(role, time, zone)) ?? 'no',
        })),
      ),
    );
    const body = { preset: p.preset, warningMinutes: Number(warning), graceMinutes: Number(grace), matrix };
    void save(
      () => api('PUT', '/api/school/policy', body, ifMatch(policy, 'policy')),
      'Policy saved. Devices follow it from now.',
    );
  }

  return (
    <section aria-labelledby="pol-edit-heading">
      <h2 id="pol-edit-heading">Policy</h2>
      <p>
        In force: <strong data-testid="preset">{p.preset}</strong> preset. Editing any cell makes it a custom
        policy. Every change is recorded in the audit log.
      </p>
      <div class="inline-form">
        <Select
          id="preset"
          label="Preset"
          value={preset}
          options={[
            ['seed', 'Seed policy (phones away in lessons)'],
            ['dfe-2026', 'DfE 2026 phone-free day'],
          ]}
          onChange={(v) => setPreset(v as 'seed' | 'dfe-2026')}
        />
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void save(async () => {
              const next = await api<Policy>(
                'POST',
                '/api/school/policy/preset',
                { preset },
                ifMatch(policy, 'policy'),
              );
              setCells(new Map(next.matrix.map((r) => [cellKey(r.role, r.time, r.zone), r.phones] as const)));
              setWarning(String(next.warningMinutes));
              setGrace(String(next.graceMinutes));
            }, 'Preset applied.')
          }
        >
          Apply preset (replaces the whole matrix)
        </button>
      </div>
      <form onSubmit={submit} noValidate>
        <div class="inline-form">
          <Input
            id="warningMinutes"
            label="Warning before a lesson (minutes)"
            type="number"
            min={0}
            max={30}
            value={warning}
            error={fields.warningMinutes}
            onInput={(e) => setWarning(e.currentTarget.value)}
          />
          <Input
            id="graceMinutes"
            label="Grace to lock (minutes)"
            type="number"
            min={0}
            max={30}
            value={grace}
            error={fields.graceMinutes}
            onInput={(e) => setGrace(e.currentTarget.value)}
          />
        </div>
        {(['pupil', 'staff'] as const).map((role) => {
          const who = role === 'pupil' ? 'Pupils' : 'Staff';
          return (
            <MatrixTable
              key={role}
              testId={`matrix-edit-${role}`}
              caption={<>{ROLE_TEXT[role]}: may phones be used?</>}
              cell={(time, zone) => {
                const key = cellKey(role, time, zone);
                return (
                  <td>
                    <CellSelect
                      id={`cell-${role}-${time}-${zone}`}
                      label={`${who}, ${TIME_TEXT[time]}, ${KIND_TEXT[zone]}`}
                      value={cells.get(key) ?? 'no'}
                      options={PHONES}
                      onChange={(v) =>
                        setCells(new Map(cells).set(key, v as Policy['matrix'][number]['phones']))
                      }
                    />
                  </td>
                );
              }}
            />
          );
        })}
        {notice}
        <button type="submit" class="primary" disabled={busy}>
          Save policy
        </button>
      </form>
    </section>
  );
}
