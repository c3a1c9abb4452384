/**
 * The administrator's timetable editor (S5: 'school:write'): periods, term dates and INSET days. The hub checks each
 * save as a whole new model, audits it (S6) and sends the devices their new schedules at once.
 */
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { CellInput, CellSelect } from '../../components/Cell.js';
import { EditableRows, patchAt, removeAt } from '../../components/EditableRows.js';
import { Input, TextArea } from '../../components/Field.js';
import { WEEKDAYS } from '../../school-text.js';
import type { PolicyView, SchoolModel } from '../../types.js';
import { ifMatch, newId, useSave } from './school-save.js';

type Timetable = SchoolModel['timetable'];

const PERIOD_KINDS = ['registration', 'assembly', 'lesson', 'break', 'lunch'] as const;

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
