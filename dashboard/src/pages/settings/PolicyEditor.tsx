/**
 * The administrator's policy editor (S5: 'school:write', P8): a preset, the warning and grace minutes, and the
 * role × time × zone matrix. The hub checks each save as a whole new model, audits it and the devices follow it.
 */
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { CellSelect } from '../../components/Cell.js';
import { Input, Select } from '../../components/Field.js';
import { MatrixTable } from '../../components/MatrixTable.js';
import { KIND_TEXT, ROLE_TEXT, TIME_TEXT } from '../../school-text.js';
import { type PolicyView, type SchoolModel, TIME_KINDS, ZONE_KINDS } from '../../types.js';
import { ifMatch, useSave } from './school-save.js';

type Policy = SchoolModel['policy'];

const PHONES = [
  ['no', 'No'],
  ['yes', 'Yes'],
  ['if-unavoidable', 'Not if avoidable'],
] as const;

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
