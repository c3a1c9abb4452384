/**
 * `phones-away demo`: the whole system on one machine. The hub (broker, private influxd, dashboard) plus one simulated
 * classroom per device in the school model: an emulated Uno running real Firmata, driven through johnny-five, running
 * the same device program a Raspberry Pi runs.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEmulatedBoard } from '../firmware/board/emulated-session.js';
import { DEFAULT_UNO_PINS } from '../firmware/board/pin-map.js';
import { startDevice } from '../firmware/device.js';
import { packageRoot, packageVersion, startHub } from '../hub/main.js';
import type { DeviceConfig, HubConfig, SchoolModel } from '../schemas/config.js';
import { parse } from '../schemas/validate.js';
import { writeFileDurably } from '../shared/durable-file.js';
import { createLogger } from '../shared/log.js';
import { persistentSecret } from './demo-secret.js';
import { startDemoTrustView, startSecondSchool, startSharedStore, trustShare } from './demo-trust.js';
import { buildHistory, demoJournalDir, historyStart, historyWanted } from './history/build-history.js';
import { DemoClock } from './history/demo-clock.js';
import { waitForSignal } from './run-hub.js';
import { Classroom } from './simulator/classroom.js';
import { startSimulatorServer } from './simulator/server.js';

export interface DemoOptions {
  dataDir: string;
  httpPort: number;
  /** Also run a two-school trust: a second school's hub, the trust's shared InfluxDB and its read-only view. */
  trust?: boolean;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  // A Ctrl+C during start-up stops the demo once it is up, cleanly.
  const stopRequested = waitForSignal();
  const dataDir = resolve(options.dataDir);
  mkdirSync(join(dataDir, 'devices'), { recursive: true, mode: 0o700 });
  const log = createLogger('demo', 'warn');
  const school = parse(
    'school-model',
    JSON.parse(readFileSync(join(packageRoot, 'config', 'school.example.json'), 'utf8')),
  ) as SchoolModel;
  // The trust's shared store starts first: the school's hub is configured to share into it.
  const shared = options.trust ? await startSharedStore(dataDir, log) : null;
  const config: HubConfig = parse('hub-config', {
    version: 1,
    site: school.site,
    dataDir: join(dataDir, 'hub'),
    school: join(packageRoot, 'config', 'school.example.json'),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: options.httpPort },
    influx: { mode: 'embedded', database: 'phones-away' },
    ...(shared ? { trust: trustShare(shared) } : {}),
    logLevel: 'warn',
  });

  // First start (no hub database yet): the hub starts with its clock held where the four weeks of history begin, and
  // is handed the real clock once the history is built. Later starts find the history in place and build nothing.
  const firstStart = historyWanted(config.dataDir);
  const clock = new DemoClock(firstStart ? historyStart(school, Date.now()) : null);

  console.log('Starting the hub (broker, private InfluxDB, dashboard)…');
  // The first-run password is shown once by the hub; the demo also keeps it in a 0600 file so a restarted demo can
  // still tell you how to sign in. A real hub never writes it down (see `phones-away hub`).
  const adminFile = join(dataDir, 'admin-password.txt');
  const hub = await startHub({
    config,
    school,
    log: log.child({ part: 'hub' }),
    now: clock.now,
    deliverFirstRunPassword: (account) => writeFileDurably(adminFile, `${account.password}\n`, 0o600),
  });
  const stops: (() => Promise<void>)[] = [...(shared ? [() => shared.stop()] : []), () => hub.stop()];
  // The administrator reads no report (S5): the demo also sets up a headteacher and a DSL, each with a generated
  // password kept beside the admin's, so a visitor can follow a report through its workflow.
  const demoStaff = [
    { username: 'head', roles: ['head'] as const, title: 'Headteacher' },
    { username: 'dsl', roles: ['dsl', 'coordinator'] as const, title: 'Designated safeguarding lead' },
  ];
  const staffLines: string[] = [];
  for (const person of demoStaff) {
    const file = join(dataDir, `${person.username}-password.txt`);
    const { secret, created } = persistentSecret(file);
    if (created && !(await hub.users.get(person.username)))
      await hub.users.add(person.username, secret, [...person.roles], clock.now(), 'system:demo');
    // As the admin's: a password goes to a terminal only, never into a log or journal the output may be kept in.
    staffLines.push(
      process.stdout.isTTY
        ? `${person.title}: sign in as '${person.username}' with password ${secret}`
        : `${person.title}: sign in as '${person.username}' with the password in ${file} (readable only by this user).`,
    );
  }

  const classrooms: Classroom[] = [];
  for (const entry of school.devices) {
    const address = { site: school.site, room: entry.room, device: entry.id };
    const secretFile = join(dataDir, 'devices', `${entry.id}.secret`);
    const { secret, created } = persistentSecret(secretFile);
    if (created || !(await hub.registry.get(entry.id))) {
      await hub.registry.provision({
        id: entry.id,
        address,
        secret,
        lockerMode: entry.lockerMode,
        ...(entry.serial ? { serial: entry.serial } : {}),
        ...(entry.installed ? { installed: entry.installed } : {}),
        now: clock.now(),
      });
    }
  }

  if (firstStart) {
    console.log('Building the past four school weeks through the hub (first start only)…');
    const began = performance.now();
    const history = await buildHistory({
      hub,
      school,
      clock,
      journalDir: demoJournalDir(dataDir),
      dsl: { username: 'dsl', roles: ['dsl', 'coordinator'] },
      head: { username: 'head' },
      software: packageVersion(),
    });
    console.log(
      `  ${history.days} school days: ${history.messages} device messages, ${history.lessonsRecorded} lessons recorded, ` +
        `${history.reports} reports, in ${((performance.now() - began) / 1000).toFixed(1)} s`,
    );
  }

  for (const entry of school.devices) {
    const secretFile = join(dataDir, 'devices', `${entry.id}.secret`);
    const secret = readFileSync(secretFile, 'utf8').trim();
    const deviceConfig: DeviceConfig = parse('device-config', {
      version: 1,
      site: school.site,
      room: entry.room,
      deviceId: entry.id,
      dataDir: join(dataDir, 'devices', entry.id),
      hub: { url: `mqtt://127.0.0.1:${hub.mqttPort}`, username: entry.id, passwordFile: secretFile },
      board: { kind: 'emulated-uno' },
      pins: DEFAULT_UNO_PINS,
      timing: { longPressMs: 2000, heldTamperMs: 30_000, confirmShowMs: 4000, heartbeatMs: 10_000 },
      lockerMode: entry.lockerMode,
    });
    // Half speed keeps four emulated Unos within one core of a Pi-sized machine; Firmata timing still holds.
    const board = await startEmulatedBoard(deviceConfig.pins, { id: entry.id, emulator: { speed: 0.5 } });
    const classroom = new Classroom({
      device: entry.id,
      room: entry.room,
      emulator: board.emulator,
      pins: deviceConfig.pins,
      longPressMs: deviceConfig.timing.longPressMs,
    });
    // A classroom at rest: door shut (reed closed pulls the input low), two phones already in their slots.
    classroom.setInput(deviceConfig.pins.door, false);
    for (const slot of deviceConfig.pins.slots.slice(0, 2)) classroom.setInput(slot, false);
    classrooms.push(classroom);
    const device = await startDevice({
      config: deviceConfig,
      board: board.port,
      password: secret,
      log: log.child({ device: entry.id }),
    });
    stops.push(async () => {
      await device.stop();
      await board.close();
    });
    console.log(`  classroom ${entry.room}: device ${entry.id} on an emulated Uno (Firmata via johnny-five)`);
  }

  // The simulator drives the emulated boards' pins: the demo's alone, on loopback; a hub never serves it.
  const simulator = await startSimulatorServer({ classrooms, log: log.child({ part: 'simulator' }) });
  stops.push(() => simulator.close());

  console.log(`\nDashboard: ${hub.httpUrl}`);
  console.log(`Classroom simulator: ${simulator.url}`);
  console.log(
    !existsSync(adminFile)
      ? 'Sign in with your account (the first-run password was shown when this data directory was created).'
      : // Only a terminal sees the password itself; a log (systemd's journal, a CI log) gets the file's path.
        process.stdout.isTTY
        ? `Sign in as 'admin' with password ${readFileSync(adminFile, 'utf8').trim()}` +
          (hub.firstRunAdmin
            ? ' (generated now, first run)'
            : ` (generated on the first run; kept in ${adminFile})`)
        : `Sign in as 'admin' with the password in ${adminFile} (readable only by this user).`,
  );
  for (const line of staffLines) console.log(line);
  console.log(
    'At the first sign-in the dashboard asks you to add it to an authenticator app (TOTP, S3): scan the QR code, or type the secret shown beside it.',
  );
  console.log(`MQTT broker: mqtt://127.0.0.1:${hub.mqttPort}   InfluxDB: ${hub.influxUrl}`);
  if (shared) {
    const second = await startSecondSchool({
      dataDir,
      school,
      influxUrl: hub.influxUrl,
      database: config.influx.database,
      shared,
      log,
    });
    stops.push(second.stop);
    const view = await startDemoTrustView({ dataDir, shared, schools: [school, second.school], log });
    stops.push(view.stop);
    console.log(`Second school (${second.school.name}, no classroom boards): ${second.httpUrl}`);
    console.log(`Trust view (${school.name} and ${second.school.name}): ${view.url}`);
    console.log(
      process.stdout.isTTY && existsSync(view.leaderFile)
        ? `Sign in to it as 'leader' with password ${readFileSync(view.leaderFile, 'utf8').trim()}`
        : `Sign in to it as 'leader' with the password in ${view.leaderFile} (readable only by this user).`,
    );
  }
  console.log('Press Ctrl+C to stop.');
  await stopRequested;
  console.log('Stopping…');
  for (const stop of stops.reverse()) await stop().catch((error: Error) => console.error(error.message));
  process.exit(0);
}
