/**
 * phones-away dashboard: the app shell. Sign-in (S1, S3), idle lock (S2), navigation by role (S5), the live stream
 * (SSE) shared by the pages, and hash routing. UK English; colour is never the only signal.
 */
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { can, type Permission, type StaffRole } from '../../hub/users/roles.js';
import { api, onLocked, openStream, type SessionInfo, setCsrf } from './api.js';
import { ErrorBoundary } from './components/ErrorBoundary.js';
import { Notice } from './components/Field.js';
import { Icon } from './components/Icon.js';
import { DEFAULT_IDLE_MS, IdleWarning, useIdleLock } from './components/IdleLock.js';
import { Login } from './components/Login.js';
import { type Live, LiveContext, useLive } from './live.js';
import { Account } from './pages/Account.js';
import { Compliance } from './pages/Compliance.js';
import { Devices } from './pages/Devices.js';
import { EvidencePack } from './pages/EvidencePack.js';
import { ReportDetail } from './pages/ReportDetail.js';
import { Reports } from './pages/Reports.js';
import { Settings } from './pages/Settings.js';
import { Today } from './pages/Today.js';
import { href, useRoute } from './router.js';
import type { DeviceView, InboxItem } from './types.js';

const NAV: { path: string; label: string; permission: Permission[] }[] = [
  { path: 'today', label: 'Today', permission: ['rooms:read'] },
  { path: 'compliance', label: 'Compliance', permission: ['compliance:read'] },
  { path: 'reports', label: 'Reports', permission: ['incidents:read'] },
  { path: 'devices', label: 'Devices', permission: ['devices:read'] },
  { path: 'settings', label: 'Settings', permission: ['policy:read', 'users:read', 'audit:read'] },
];

const sortDevices = (all: DeviceView[]) =>
  all.sort((a, b) => a.room.localeCompare(b.room) || a.device.localeCompare(b.device));

function Forbidden() {
  return (
    <section aria-labelledby="forbidden-heading">
      <h2 id="forbidden-heading">Not available for your role</h2>
      <p data-testid="forbidden">
        Your account does not have access to this page: each role sees only what it needs. Ask the school's
        administrator if you think it should.
      </p>
    </section>
  );
}

const EXTRA_TITLES: Record<string, string> = { evidence: 'Evidence pack', account: 'Your account' };

function Page({ onPasswordChanged }: { onPasswordChanged: () => void }) {
  const live = useLive();
  const route = useRoute();
  const [first = 'today', second] = route.path;
  const nav = NAV.find((n) => n.path === first);
  useEffect(() => {
    document.title = `${nav?.label ?? EXTRA_TITLES[first] ?? 'Not found'} – phones-away`;
    document.getElementById('main')?.focus();
  }, [first, nav]);
  // Every signed-in account may change its own password (S1), whatever its role.
  if (first === 'account') return <Account onPasswordChanged={onPasswordChanged} />;
  if (first === 'evidence')
    return live.may('compliance:read') ? <EvidencePack query={route.query} /> : <Forbidden />;
  if (!nav)
    return (
      <section aria-labelledby="nf-heading">
        <h2 id="nf-heading">Page not found</h2>
        <p>
          <a href={href('today')}>Go to Today</a>
        </p>
      </section>
    );
  if (!nav.permission.some(live.may)) return <Forbidden />;
  switch (first) {
    case 'compliance':
      return <Compliance />;
    case 'reports':
      return second ? <ReportDetail id={second} /> : <Reports />;
    case 'devices':
      return <Devices />;
    case 'settings':
      return <Settings tab={second} />;
    default:
      return <Today />;
  }
}

function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [locked, setLocked] = useState(false);
  const [devices, setDevices] = useState<DeviceView[]>([]);
  const [incidents, setIncidents] = useState<InboxItem[] | null>(null);
  const [streaming, setStreaming] = useState(false);
  const [signInNote, setSignInNote] = useState('');
  const route = useRoute();
  const sessionRef = useRef<SessionInfo | null | undefined>(undefined);
  sessionRef.current = session;

  const lockedRef = useRef(false);
  lockedRef.current = locked;

  const lock = useCallback(() => {
    if (!sessionRef.current || lockedRef.current) return;
    lockedRef.current = true;
    setLocked(true);
    setStreaming(false);
    api('POST', '/api/logout').catch(() => {});
  }, []);

  useEffect(() => {
    onLocked(lock);
    api<SessionInfo>('GET', '/api/session').then(signedIn, () => setSession(null));
  }, [lock]);

  function signedIn(s: SessionInfo) {
    setCsrf(s.csrf);
    setLocked(false);
    setSignInNote('');
    setSession(s);
  }

  /** The hub ended every session of the account: sign in again, with the new password. */
  function passwordChanged() {
    setStreaming(false);
    setSignInNote('Password changed. Sign in with your new password.');
    setSession(null);
  }

  const may = useCallback(
    (permission: Permission) => !!session && can(session.roles as StaffRole[], permission),
    [session],
  );
  const mergeIncident = useCallback((incident: InboxItem) => {
    setIncidents((all) => [incident, ...(all ?? []).filter((i) => i.id !== incident.id)]);
  }, []);

  useEffect(() => {
    if (!session || locked) return;
    const roles = session.roles as StaffRole[];
    if (can(roles, 'rooms:read'))
      api<DeviceView[]>('GET', '/api/rooms').then(
        (all) => setDevices(sortDevices(all)),
        () => {},
      );
    if (can(roles, 'incidents:read'))
      api<{ items: InboxItem[] }>('GET', '/api/incidents?limit=1000').then(
        (inbox) => setIncidents(inbox.items),
        () => {},
      );
    else setIncidents(null);
    return openStream(
      {
        hello: () => setStreaming(true),
        device: (data) => {
          const view = data as DeviceView;
          setDevices((all) => sortDevices([...all.filter((d) => d.device !== view.device), view]));
        },
        incident: (data) => mergeIncident(data as InboxItem),
        'incident-removed': (data) => {
          const { id } = data as { id: string };
          setIncidents((all) => all?.filter((i) => i.id !== id) ?? null);
        },
        locked: lock,
      },
      () => setStreaming(false),
    );
  }, [session, locked, lock, mergeIncident]);

  const idleLimit = session?.idleLimitMs ?? DEFAULT_IDLE_MS;
  const remaining = useIdleLock(idleLimit, !!session && !locked, lock);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null)
    return (
      <Login
        onSignedIn={signedIn}
        intro={
          signInNote ? (
            <div data-testid="sign-in-note">
              <Notice ok={signInNote} />
            </div>
          ) : undefined
        }
      />
    );
  if (locked)
    return (
      <div data-testid="lock-screen">
        <Login
          onSignedIn={signedIn}
          heading="Screen locked"
          intro={
            <p class="lock-note">
              <Icon name="locked" /> Locked after {Math.max(1, Math.round(idleLimit / 60_000))} minutes
              without use, to keep safeguarding information private. Sign in again to carry on where you were.
            </p>
          }
        />
      </div>
    );

  const live: Live = { session, may, devices, incidents, mergeIncident };
  const current = route.path[0] ?? 'today';
  const unacknowledged = incidents?.filter((i) => i.status === 'reported').length ?? 0;
  return (
    <LiveContext.Provider value={live}>
      {/* A button, not a link: with hash routing, href="#main" would be read as a route. */}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to main content
      </button>
      <header class="top">
        <p class="brand">phones-away</p>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => n.permission.some(may)).map((n) => (
              <li key={n.path}>
                <a href={href(n.path)} aria-current={current === n.path ? 'page' : undefined}>
                  {n.label}
                  {n.path === 'reports' && unacknowledged > 0 && (
                    <span class="badge"> {unacknowledged} new</span>
                  )}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="who">
          <span>
            {session.username} ({session.roles.join(', ')})
          </span>{' '}
          <span data-testid="live" class={streaming ? 'live on' : 'live off'}>
            <span aria-hidden="true">{streaming ? '● ' : '○ '}</span>
            {streaming ? 'Live' : 'Reconnecting…'}
          </span>{' '}
          <a href={href('account')} aria-current={current === 'account' ? 'page' : undefined}>
            Your account
          </a>{' '}
          <button type="button" class="link" onClick={lock}>
            Lock
          </button>
        </p>
      </header>
      {remaining !== null && <IdleWarning remainingMs={remaining} />}
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={route.path.join('/')}>
          <Page onPasswordChanged={passwordChanged} />
        </ErrorBoundary>
      </main>
    </LiveContext.Provider>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
