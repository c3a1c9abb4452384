/**
 * `npm start -- --trust`: the demo as a two-school trust. The trust's shared InfluxDB is its own influxd (as a trust's
 * server would be); the demo school and a second school, Northfield, each share their numbers into it from their own
 * hub; the trust's read-only view reads it and nothing else. Northfield has no classroom boards (its lockers would
 * cost a core each), is one classroom smaller and follows the trust's baseline policy: its four weeks of history are built through its hub's real pipeline as the demo school's are,
 * and its devices show as offline on the trust's device-health page, as a school on its holiday would.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type InfluxdHandle, startInfluxd } from '../hub/influx/influxd-process.js';
import { packageRoot, packageVersion, startHub } from '../hub/main.js';
import { dfe2026Policy } from '../hub/policy/presets.js';
import type { HubConfig, HubTrustConfig, SchoolModel } from '../schemas/config.js';
import { parse } from '../schemas/validate.js';
import { writeFileDurably } from '../shared/durable-file.js';
import type { Logger } from '../shared/log.js';
import { persistentSecret } from './demo-secret.js';
import { buildHistory, demoJournalDir, historyStart, historyWanted } from './history/build-history.js';
import { DemoClock } from './history/demo-clock.js';

const SHARED_DB = 'trust';
const trustBaselineFile = join(packageRoot, 'config', 'trust-baseline.example.json');
const SECOND = { site: 'northfield', name: 'Northfield Academy' };

/** The trust's shared store: its own private influxd under the demo's data directory. */
export function startSharedStore(dataDir: string, log: Logger): Promise<InfluxdHandle> {
  return startInfluxd({
    dataDir: join(dataDir, 'trust-influx'),
    database: SHARED_DB,
    log: log.child({ part: 'trust-influxd' }),
  });
}

/** What each demo school's hub.json would say to share with the trust. */
export function trustShare(shared: InfluxdHandle): HubTrustConfig {
  return {
    store: { url: shared.url, database: SHARED_DB },
    shareIncidentCounts: true,
    baselineFile: trustBaselineFile,
  };
}

/**
 * The second school: its own hub (own data directory, own site) keeping its raw data beside the demo school's in the
 * demo's InfluxDB (a database shared by site, as `influx.mode: external` allows), and sharing with the trust.
 */
export async function startSecondSchool(options: {
  dataDir: string;
  school: SchoolModel;
  influxUrl: string;
  database: string;
  shared: InfluxdHandle;
  log: Logger;
}): Promise<{ school: SchoolModel; httpUrl: string; stop: () => Promise<void> }> {
  const root = join(options.dataDir, SECOND.site);
  mkdirSync(join(root, 'devices'), { recursive: true, mode: 0o700 });
  // A smaller school on the trust's baseline policy, so the trust's pages have differences to show.
  const base = structuredClone(options.school);
  const dropped = base.rooms.find((r) =>
    base.devices.some((d) => d.room === r.id && d.lockerMode === 'lesson'),
  );
  const school: SchoolModel = {
    ...base,
    site: SECOND.site,
    name: SECOND.name,
    rooms: base.rooms.filter((r) => r !== dropped),
    devices: base.devices.filter((d) => d.room !== dropped?.id),
    policy: dfe2026Policy(),
  };
  const config: HubConfig = parse('hub-config', {
    version: 1,
    site: school.site,
    dataDir: join(root, 'hub'),
    school: join(packageRoot, 'config', 'school.example.json'),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    influx: { mode: 'external', url: options.influxUrl, database: options.database },
    trust: trustShare(options.shared),
    logLevel: 'warn',
  });
  const firstStart = historyWanted(config.dataDir);
  const clock = new DemoClock(firstStart ? historyStart(school, Date.now()) : null);
  const hub = await startHub({
    config,
    school,
    log: options.log.child({ part: SECOND.site }),
    now: clock.now,
  });
  try {
    for (const username of ['head', 'dsl']) {
      if (!(await hub.users.get(username)))
        await hub.users.add(
          username,
          persistentSecret(join(root, `${username}-password.txt`)).secret,
          username === 'head' ? ['head'] : ['dsl', 'coordinator'],
          clock.now(),
          'system:demo',
        );
    }
    for (const entry of school.devices) {
      if (await hub.registry.get(entry.id)) continue;
      await hub.registry.provision({
        id: entry.id,
        address: { site: school.site, room: entry.room, device: entry.id },
        secret: persistentSecret(join(root, 'devices', `${entry.id}.secret`)).secret,
        lockerMode: entry.lockerMode,
        now: clock.now(),
      });
    }
    if (firstStart) {
      console.log(`Building ${SECOND.name}'s past four school weeks through its own hub (first start only)…`);
      await buildHistory({
        hub,
        school,
        clock,
        journalDir: demoJournalDir(root),
        dsl: { username: 'dsl', roles: ['dsl', 'coordinator'] },
        head: { username: 'head' },
        software: packageVersion(),
      });
    }
    return { school, httpUrl: hub.httpUrl, stop: () => hub.stop() };
  } catch (error) {
    await hub.stop();
    throw error;
  }
}

/** The trust's read-only view over the shared store; its leader's one-time password kept in a 0600 file. */
export async function startDemoTrustView(options: {
  dataDir: string;
  shared: InfluxdHandle;
  schools: SchoolModel[];
  log: Logger;
}): Promise<{ url: string; leaderFile: string; stop: () => Promise<void> }> {
  const { startTrust } = await import('../trust/main.js');
  const leaderFile = join(options.dataDir, 'trust-leader-password.txt');
  const trust = await startTrust(
    {
      v: 1,
      name: 'Demo Learning Trust',
      dataDir: join(options.dataDir, 'trust'),
      http: { host: '127.0.0.1', port: 0 },
      store: { url: options.shared.url, database: SHARED_DB },
      schools: options.schools.map((s) => ({ site: s.site, name: s.name, shareIncidents: true })),
      baselineFile: trustBaselineFile,
    },
    {
      log: options.log.child({ part: 'trust' }),
      deliverFirstRunPassword: (account) => writeFileDurably(leaderFile, `${account.password}\n`, 0o600),
    },
  );
  return { url: trust.url, leaderFile, stop: () => trust.stop() };
}
