/**
 * Devices (S4, S8, D4): the hardware inventory (room, zone, serial, software, installed, last seen, health), devices
 * waiting for approval (the approver enters the serial and installed date), revocation behind a confirmation, and
 * enrolment tokens. Out-of-date software is flagged against the version the hub expects (its own, or the configured
 * one), never the newest in the fleet: a fleet that is all old is all flagged.
 */
import { useEffect, useState } from 'preact/hooks';
import { useAction } from '../action.js';
import { api, errorText } from '../api.js';
import { ConfirmDialog } from '../components/Dialog.js';
import { Input, Notice, Select } from '../components/Field.js';
import { FleetUpdates } from '../components/FleetUpdates.js';
import { Icon } from '../components/Icon.js';
import { Table } from '../components/Table.js';
import { health } from '../device-status.js';
import { fmtDateTime } from '../format.js';
import { useLive } from '../live.js';
import { useSchool } from '../school.js';
import { LOCKER_MODES, type PublicDevice, type PublicToken } from '../types.js';

export function Devices() {
  const live = useLive();
  const [devices, setDevices] = useState<PublicDevice[] | null>(null);
  const [tokens, setTokens] = useState<PublicToken[]>([]);
  const [versions, setVersions] = useState<{ expected: string; outOfDate: string[] } | null>(null);
  const [issued, setIssued] = useState<string>('');
  const { error, ok, fields, setError, act } = useAction(() => load());
  const [revoke, setRevoke] = useState<PublicDevice | null>(null);
  const admin = live.may('devices:approve');
  const { policy, roomName, roomZoneName } = useSchool();

  async function load() {
    try {
      setDevices(await api<PublicDevice[]>('GET', '/api/devices'));
      setVersions(await api<{ expected: string; outOfDate: string[] }>('GET', '/api/software'));
      if (admin) setTokens(await api<PublicToken[]>('GET', '/api/enrolment-tokens'));
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => {
    void load();
  }, []);

  const inventory = (devices ?? []).filter((d) => d.status !== 'pending');
  const pending = (devices ?? []).filter((d) => d.status === 'pending');

  return (
    <section aria-labelledby="devices-heading">
      <h1 id="devices-heading">Devices</h1>
      <Notice error={error} ok={ok} />
      {admin && pending.length > 0 && (
        <section aria-labelledby="pending-heading" class="pending">
          <h2 id="pending-heading">Waiting for approval</h2>
          <p>
            A device is not trusted until you approve it into a room. Enter the serial from the hardware and
            the date it was installed: they go into the inventory.
          </p>
          {pending.map((d) => (
            <form
              key={d.id}
              class="inline-form"
              aria-label={`Approve ${d.id}`}
              onSubmit={(event) => {
                event.preventDefault();
                const data = new FormData(event.currentTarget as HTMLFormElement);
                void act(
                  () =>
                    api('POST', `/api/devices/${encodeURIComponent(d.id)}/approve`, {
                      room: String(data.get(`room-${d.id}`)),
                      lockerMode: String(data.get(`mode-${d.id}`)),
                      ...(String(data.get(`serial-${d.id}`) ?? '').trim()
                        ? { serial: String(data.get(`serial-${d.id}`)).trim() }
                        : {}),
                      ...(data.get(`installed-${d.id}`)
                        ? { installed: String(data.get(`installed-${d.id}`)) }
                        : {}),
                    }),
                  `${d.id} approved.`,
                );
              }}
            >
              <p>
                <strong>{d.id}</strong> · serial {d.serial ?? 'not given'} · asked {fmtDateTime(d.createdAt)}
              </p>
              <Select
                id={`room-${d.id}`}
                label="Room"
                options={(policy?.rooms ?? []).map((r) => [r.id, r.name])}
                required
                error={fields.room}
              />
              <Select
                id={`mode-${d.id}`}
                label="Locker mode"
                options={LOCKER_MODES.map((m) => [
                  m,
                  m === 'day-storage' ? 'Day storage (office)' : m === 'lesson' ? 'Lesson' : 'Open',
                ])}
                error={fields.lockerMode}
              />
              <Input
                id={`serial-${d.id}`}
                label="Serial"
                maxLength={64}
                defaultValue={d.serial ?? ''}
                error={fields.serial}
              />
              <Input id={`installed-${d.id}`} label="Installed on" type="date" error={fields.installed} />
              <button type="submit" class="primary">
                Approve
              </button>
              <button type="button" onClick={() => setRevoke(d)}>
                Refuse
              </button>
            </form>
          ))}
        </section>
      )}
      <h2 id="inventory-heading">Inventory</h2>
      {!devices ? (
        <p>Loading…</p>
      ) : (
        <Table
          columns={[
            'Device',
            'Room',
            'Zone',
            'Serial',
            'Software',
            'Installed',
            'Last seen',
            'Health',
            'Status',
            admin && 'Actions',
          ]}
          labelledBy="inventory-heading"
        >
          {inventory.map((d) => {
            const view = live.devices.find((v) => v.device === d.id);
            const software = view?.software ?? d.software;
            const old = versions?.outOfDate.includes(d.id) ?? false;
            const h = view ? health(view) : { icon: 'offline' as const, text: 'Offline' };
            return (
              <tr key={d.id} data-device-row={d.id}>
                <th scope="row">{d.id}</th>
                <td>{roomName(d.room)}</td>
                <td>{roomZoneName(d.room)}</td>
                <td>{d.serial ?? '–'}</td>
                <td>
                  {software ?? '–'}
                  {old && (
                    <strong class="warn">
                      {' '}
                      <Icon name="alert" /> Out of date (expected {versions?.expected})
                    </strong>
                  )}
                </td>
                <td>{d.installed ?? '–'}</td>
                <td>{fmtDateTime(view?.lastSeen ?? d.lastSeen)}</td>
                <td>
                  <Icon name={h.icon} /> {h.text}
                  {view?.queued ? ` · ${view.queued} queued` : ''}
                </td>
                <td>{d.status === 'revoked' ? 'Revoked' : 'Approved'}</td>
                {admin && (
                  <td>
                    {d.status === 'approved' && (
                      <button type="button" class="danger" onClick={() => setRevoke(d)}>
                        Revoke<span class="visually-hidden"> {d.id}</span>
                      </button>
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </Table>
      )}
      {admin && (
        <section aria-labelledby="tokens-heading">
          <h2 id="tokens-heading">Enrolment tokens</h2>
          <p>A new device enrols with a token, then waits above for approval. A token is shown once.</p>
          <form
            class="inline-form"
            aria-labelledby="tokens-heading"
            onSubmit={(event) => {
              event.preventDefault();
              const data = new FormData(event.currentTarget as HTMLFormElement);
              void act(async () => {
                const r = await api<{ token: string }>('POST', '/api/enrolment-tokens', {
                  maxUses: Number(data.get('maxUses')),
                  ttlMinutes: Number(data.get('ttlMinutes')),
                });
                setIssued(r.token);
              }, 'Token issued.');
            }}
          >
            <Input
              id="maxUses"
              label="Devices it may enrol"
              type="number"
              min={1}
              max={1000}
              defaultValue="1"
              error={fields.maxUses}
            />
            <Input
              id="ttlMinutes"
              label="Valid for (minutes)"
              type="number"
              min={1}
              defaultValue="60"
              error={fields.ttlMinutes}
            />
            <button type="submit">Issue token</button>
          </form>
          {issued && (
            <p role="status">
              New token (copy it now; it is not shown again): <code class="secret">{issued}</code>
            </p>
          )}
          {tokens.length > 0 && (
            <ul>
              {tokens.map((t) => (
                <li key={t.id}>
                  {t.id}: {t.uses} of {t.maxUses} used, expires {fmtDateTime(t.expiresAt)}
                  {t.revoked ? ' (revoked)' : ''}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <FleetUpdates admin={live.may('updates:manage')} policy={policy} />
      <ConfirmDialog
        open={revoke !== null}
        title="Revoke this device?"
        confirmLabel="Revoke device"
        danger
        onCancel={() => setRevoke(null)}
        onConfirm={() => {
          const d = revoke;
          setRevoke(null);
          if (d)
            void act(
              () => api('POST', `/api/devices/${encodeURIComponent(d.id)}/revoke`),
              `${d.id} revoked.`,
            );
        }}
      >
        <p>
          {revoke?.id} is disconnected at once and the hub refuses its messages until it is approved again.
        </p>
      </ConfirmDialog>
    </section>
  );
}
