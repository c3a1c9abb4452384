/** phones-away dashboard: sign in, the live Today grid and the reports inbox. UK English; colour is never the only signal. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { IncidentSummary } from '../../hub/event-bus.js';
import type { DeviceView } from '../../hub/live/live-grid.js';
import { ApiError, api, openStream, type SessionInfo, setCsrf } from './api.js';

const canSeeReports = (roles: string[]) =>
  roles.some((r) => r === 'coordinator' || r === 'dsl' || r === 'head');

function Login({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError('');
    try {
      onSignedIn(
        await api<SessionInfo>('POST', '/api/login', {
          username: String(form.get('username') ?? ''),
          password: String(form.get('password') ?? ''),
        }),
      );
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Could not reach the hub');
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="login">
      <h1>phones-away</h1>
      <form onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        {error && (
          <p id="login-error" role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function lockerText(view: DeviceView): { icon: string; text: string; tone: string } {
  if (!view.online) return { icon: '⚠', text: 'Offline', tone: 'fault' };
  const locker = view.locker;
  if (!locker) return { icon: '…', text: 'No state yet', tone: 'unknown' };
  if (locker.doorOpen) return { icon: '🚪', text: 'Door open', tone: 'open' };
  return locker.locked
    ? { icon: '🔒', text: 'Locked', tone: 'locked' }
    : { icon: '🔓', text: 'Unlocked', tone: 'open' };
}

const SIGNAGE_TEXT: Record<string, string> = {
  'phones-away': 'Phones away',
  'phones-allowed': 'Phones allowed',
  'authorised-use': 'Authorised use',
  fault: 'Fault',
  off: 'Off',
};

function TodayGrid({ devices }: { devices: DeviceView[] }) {
  return (
    <section aria-labelledby="today-heading">
      <h2 id="today-heading">Today</h2>
      <ul class="grid">
        {devices.map((view) => {
          const locker = lockerText(view);
          return (
            <li key={view.device} class={`room tone-${locker.tone}`} data-device={view.device}>
              <h3>{view.room}</h3>
              <p class="locker" data-testid="locker-status">
                <span aria-hidden="true">{locker.icon}</span> {locker.text}
              </p>
              <p>Phones stored: {view.locker?.phones ?? '–'}</p>
              <p>Signage: {view.signage ? SIGNAGE_TEXT[view.signage.mode] : '–'}</p>
              <p class="device-id">
                {view.device} · {view.online ? 'online' : 'offline'}
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function ReportsInbox({ incidents }: { incidents: IncidentSummary[] }) {
  const open = incidents.filter((i) => i.status === 'reported');
  return (
    <section aria-labelledby="reports-heading">
      <h2 id="reports-heading">
        Reports{' '}
        <span class="badge" data-testid="unacknowledged-count">
          {open.length} unacknowledged
        </span>
      </h2>
      {incidents.length === 0 ? (
        <p>No reports.</p>
      ) : (
        <table class="inbox">
          <thead>
            <tr>
              <th scope="col">Ref</th>
              <th scope="col">Kind</th>
              <th scope="col">Room</th>
              <th scope="col">Urgency</th>
              <th scope="col">Received</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {incidents.map((i) => (
              <tr key={i.id} data-ref={i.ref}>
                <td>
                  <strong>{i.ref}</strong>
                </td>
                <td>{i.kind === 'report' ? 'Report button' : 'Tamper alert'}</td>
                <td>{i.room}</td>
                <td>{i.urgency === 'urgent' ? '‼ Urgent' : 'Normal'}</td>
                <td>
                  <time dateTime={new Date(i.receivedAt).toISOString()}>
                    {new Date(i.receivedAt).toLocaleTimeString('en-GB')}
                  </time>
                </td>
                <td>{i.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [devices, setDevices] = useState<DeviceView[]>([]);
  const [incidents, setIncidents] = useState<IncidentSummary[]>([]);
  const [live, setLive] = useState(false);

  useEffect(() => {
    api<SessionInfo>('GET', '/api/session').then(signedIn, () => setSession(null));
  }, []);

  function signedIn(s: SessionInfo) {
    setCsrf(s.csrf);
    setSession(s);
  }

  useEffect(() => {
    if (!session) return;
    api<DeviceView[]>('GET', '/api/rooms').then(setDevices, () => {});
    if (canSeeReports(session.roles))
      api<IncidentSummary[]>('GET', '/api/incidents').then(setIncidents, () => {});
    return openStream(
      {
        hello: () => setLive(true),
        device: (data) => {
          const view = data as DeviceView;
          setDevices((all) => {
            const rest = all.filter((d) => d.device !== view.device);
            return [...rest, view].sort(
              (a, b) => a.room.localeCompare(b.room) || a.device.localeCompare(b.device),
            );
          });
        },
        incident: (data) => {
          const incident = data as IncidentSummary;
          setIncidents((all) => [incident, ...all.filter((i) => i.id !== incident.id)]);
        },
        locked: () => setSession(null),
      },
      () => setLive(false),
    );
  }, [session]);

  if (session === undefined) return <p>Loading…</p>;
  if (session === null) return <Login onSignedIn={signedIn} />;
  return (
    <>
      <header>
        <h1>phones-away</h1>
        <p>
          Signed in as <strong>{session.username}</strong> ({session.roles.join(', ')}) ·{' '}
          <span data-testid="live">{live ? 'Live' : 'Reconnecting…'}</span>
        </p>
      </header>
      <main>
        <TodayGrid devices={devices} />
        {canSeeReports(session.roles) && <ReportsInbox incidents={incidents} />}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
