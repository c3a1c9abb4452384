/**
 * Today (P1–P3, P6, P7): every room's locker and signage, live over SSE; the period and policy in force; today's
 * exemptions; phones confiscated and not yet returned, with the register; and the Headteacher's emergency release,
 * behind a confirmation.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import { ConfiscationRegister } from '../components/ConfiscationRegister.js';
import { ConfirmDialog } from '../components/Dialog.js';
import { Notice } from '../components/Field.js';
import { Icon } from '../components/Icon.js';
import { StoredPhones } from '../components/StoredPhones.js';
import { health, lockerStatus, SIGNAGE_TEXT } from '../device-status.js';
import { fmtDateTime, fmtTime } from '../format.js';
import { useLive } from '../live.js';
import { useResource } from '../resource.js';
import { useSchool } from '../school.js';
import type { DeviceView, ExemptionView, PolicyView } from '../types.js';

const TIME_TEXT: Record<string, string> = {
  'before-school': 'Before school',
  registration: 'Registration',
  assembly: 'Assembly',
  lesson: 'Lesson',
  break: 'Break',
  lunch: 'Lunch',
  'after-school': 'After school',
  closed: 'School closed',
};

function RoomCard({
  view,
  roomName,
  exemption,
  directive,
}: {
  view: DeviceView;
  roomName: string;
  exemption?: ExemptionView | undefined;
  directive?: PolicyView['devices'][number]['directive'] | undefined;
}) {
  const locker = lockerStatus(view);
  const h = health(view);
  return (
    <li class={`room tone-${locker.tone}`} data-device={view.device}>
      <h3>{roomName}</h3>
      <p class="locker" data-testid="locker-status">
        <Icon name={locker.icon} /> <strong>{locker.text}</strong>
        {directive && view.online && view.locker && directive.locked !== view.locker.locked && (
          <span class="mismatch"> (expected {directive.locked ? 'locked' : 'unlocked'})</span>
        )}
      </p>
      <dl>
        <dt>Phones stored</dt>
        <dd>
          <Icon name="phone" /> {view.locker ? `${view.locker.phones} of ${view.locker.slots}` : '–'}
        </dd>
        <dt>Signage</dt>
        <dd>{view.signage ? SIGNAGE_TEXT[view.signage.mode] : '–'}</dd>
        <dt>Exemption</dt>
        <dd>
          {exemption ? (
            <>
              <Icon name="exempt" /> Authorised until {fmtTime(exemption.end)}
            </>
          ) : (
            'None'
          )}
        </dd>
        <dt>Confiscated</dt>
        <dd data-testid="confiscated">
          {view.confiscated ? (
            <>
              <Icon name="confiscated" /> {view.confiscated} not yet returned
            </>
          ) : (
            'None'
          )}
        </dd>
        <dt>Device</dt>
        <dd class="device-id">
          <Icon name={h.icon} /> {h.text} · {view.device}
        </dd>
      </dl>
    </li>
  );
}

export function Today() {
  const live = useLive();
  const school = useSchool();
  const { policy, roomName } = school;
  const date = policy?.today.date;
  const todays = useResource<ExemptionView[]>(date ? `/api/exemptions?from=${date}&to=${date}` : null);
  const exemptions = todays.data ?? [];
  const [failed, setFailed] = useState('');
  const [confirm, setConfirm] = useState<'release' | 'end' | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  const [clock, setClock] = useState(Date.now());
  const error = failed || school.error || todays.error;

  async function load() {
    setFailed('');
    await school.reload();
    await todays.reload();
  }

  // Refresh the period and policy at the next timetable boundary, not on a poll.
  useEffect(() => {
    if (!policy) return;
    const wait = Math.min(Math.max(policy.now.nextBoundary - Date.now(), 1000), 2 ** 31 - 1);
    const t = setTimeout(() => void load(), wait);
    return () => clearTimeout(t);
  }, [policy]);
  useEffect(() => {
    const t = setInterval(() => setClock(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);

  async function emergency(kind: 'release' | 'end') {
    setBusy(true);
    try {
      await api('POST', kind === 'release' ? '/api/emergency-release' : '/api/emergency-release/end', {
        confirm: true,
      });
      setNotice(kind === 'release' ? 'Every locker has been told to unlock.' : 'Emergency release ended.');
      setConfirm(null);
      await load();
    } catch (e) {
      setFailed(errorText(e));
      setConfirm(null);
    } finally {
      setBusy(false);
    }
  }

  // The hub sends the period in force itself (name and times), not its id.
  const period = policy?.now.period ?? undefined;
  const activeExemption = (room: string) =>
    exemptions.find((e) => e.room === room && e.status === 'granted' && e.start <= clock && clock < e.end);
  const emergencyOn = policy?.now.emergency;
  const locked = live.devices.filter((d) => d.online && d.locker?.locked && !d.locker.doorOpen).length;

  return (
    <section aria-labelledby="today-heading">
      <h1 id="today-heading">Today</h1>
      <Notice error={error} ok={notice} />
      {policy && (
        <div class="now" data-testid="now">
          <p>
            <strong>{policy.today.date}</strong> ·{' '}
            {policy.today.status === 'open' ? 'School day' : policy.today.status} · Now:{' '}
            <strong>
              {period ? `${period.name} (${period.start}–${period.end})` : TIME_TEXT[policy.now.timeKind]}
            </strong>
          </p>
          <p>
            Policy in force: <strong>{policy.policy.preset}</strong> preset
            {policy.now.timeKind === 'lesson'
              ? ' – phones away and lockers locked in every curriculum room.'
              : ' – see Settings › Policy for where phones may be used now.'}{' '}
            {locked} of {live.devices.length} lockers locked.
          </p>
        </div>
      )}
      {emergencyOn && (
        <p class="banner danger" role="status">
          <Icon name="alert" /> <strong>Emergency release in force</strong> since{' '}
          {fmtDateTime(emergencyOn.startedAt)} by {emergencyOn.startedBy}: every locker is unlocked.
        </p>
      )}
      {live.may('emergency:release') && (
        <p>
          {emergencyOn ? (
            <button type="button" onClick={() => setConfirm('end')}>
              End emergency release
            </button>
          ) : (
            <button type="button" class="danger" onClick={() => setConfirm('release')}>
              Emergency release…
            </button>
          )}
        </p>
      )}
      {live.may('emergency:release') && policy && !emergencyOn && (
        <StoredPhones policy={policy} roomName={roomName} onChanged={load} />
      )}
      <h2 id="rooms-heading">Rooms</h2>
      {live.devices.length === 0 ? (
        <p>No devices yet.</p>
      ) : (
        <ul class="grid" aria-labelledby="rooms-heading">
          {live.devices.map((view) => (
            <RoomCard
              key={view.device}
              view={view}
              roomName={roomName(view.room)}
              exemption={activeExemption(view.room)}
              directive={policy?.devices.find((d) => d.id === view.device)?.directive}
            />
          ))}
        </ul>
      )}
      {live.may('confiscations:read') && <ConfiscationRegister roomName={roomName} />}
      <ConfirmDialog
        open={confirm === 'release'}
        title="Release every locker?"
        confirmLabel="Release every locker"
        danger
        busy={busy}
        onCancel={() => setConfirm(null)}
        onConfirm={() => void emergency('release')}
      >
        <p>
          Every locker in the school unlocks now and stays unlocked until you end the emergency release. Use
          this for a fire alarm, lockdown or other emergency. It is recorded in the audit log with your name.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === 'end'}
        title="End the emergency release?"
        confirmLabel="End emergency release"
        busy={busy}
        onCancel={() => setConfirm(null)}
        onConfirm={() => void emergency('end')}
      >
        <p>Lockers return to the timetable straight away.</p>
      </ConfirmDialog>
    </section>
  );
}
