/**
 * The administrator's zones and rooms editor (S5: 'school:write', P3): a zone says where phones may be used, a room
 * belongs to one zone; identifiers are fixed once saved. The hub checks each save as a whole new model and audits it.
 */
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { CellInput, CellSelect } from '../../components/Cell.js';
import { EditableRows, patchAt, removeAt } from '../../components/EditableRows.js';
import { KIND_TEXT } from '../../school-text.js';
import { type PolicyView, ZONE_KINDS } from '../../types.js';
import { ifMatch, useSave } from './school-save.js';

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
