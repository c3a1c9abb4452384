/**
 * Shared by the fault tests: a realistic event stream from light devices, the exactly-once check against the hub's
 * incident log and InfluxDB, and the results table (printed and written into artifacts/fault-results.md, not the
 * committed bench/RESULTS.md: a test run leaves the working tree clean).
 */
import { expect } from 'vitest';
import { markdownTable, replaceSection } from '../../bench/results-file.js';
import type { Series } from '../../hub/store/metrics-store.js';
import type { ChainReport, HubStats } from '../support/hub-entry.js';
import type { HubProcess } from '../support/hub-process.js';
import { SimDevice } from '../support/sim-device.js';

export const SITE = 'demo-school';
export const SECRET = 'fault-suite-device-secret-0001';

export interface FaultRow {
  fault: string;
  eventsSent: number;
  eventsStored: number;
  duplicates: number;
  reportsSent: number;
  reportsLost: number;
  note: string;
}

export const faultRows: FaultRow[] = [];

/** Provisions `n` devices named `<prefix>-<i>` in rooms room-1.. and connects them. */
export async function startDevices(
  hub: HubProcess,
  prefix: string,
  n: number,
  options: { clock?: () => number; resendAfterMs?: number; chained?: boolean } = {},
): Promise<SimDevice[]> {
  const specs = Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i + 1}`,
    site: SITE,
    room: `room-${(i % 3) + 1}`,
  }));
  await hub.request({ cmd: 'provision', secret: SECRET, devices: specs });
  const devices = specs.map(
    (s) =>
      new SimDevice({
        port: hub.mqttPort,
        address: { site: SITE, room: s.room, device: s.id },
        secret: SECRET,
        resendAfterMs: options.resendAfterMs ?? 1_500,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.chained ? { chained: true } : {}),
      }),
  );
  await Promise.all(devices.map((d) => d.start()));
  return devices;
}

const KINDS = [
  'locked',
  'phones-changed',
  'door-opened',
  'door-closed',
  'unlocked',
  'key-on',
  'key-off',
] as const;

/**
 * Emits `count` events round-robin over the devices, one every `intervalMs`: locker events with a report press
 * every 7th, and a heartbeat every 5th. `during` runs once, when half the stream has gone out.
 */
export async function stream(
  devices: SimDevice[],
  count: number,
  intervalMs: number,
  during?: () => Promise<void>,
): Promise<void> {
  let midpoint: Promise<void> | undefined;
  for (let i = 0; i < count; i++) {
    const device = devices[i % devices.length] as SimDevice;
    if (i % 7 === 3) device.report(i % 14 === 3 ? 'urgent' : 'normal');
    else device.lockerEvent(KINDS[i % KINDS.length] as (typeof KINDS)[number], i % 30);
    if (i % 5 === 0) device.heartbeat();
    if (i === Math.floor(count / 2) && during) midpoint = during();
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  await midpoint;
}

/** Waits until every device's journal is empty (all reports acked, all locker events PUBACKed). */
export async function settle(devices: SimDevice[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (devices.some((d) => d.pending.size > 0)) {
    if (Date.now() > deadline) {
      const left = devices.reduce((n, d) => n + d.pending.size, 0);
      throw new Error(`devices still hold ${left} unconfirmed events after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function idsFrom(series: Series[]): string[] {
  const out: string[] = [];
  for (const s of series) {
    const seqAt = s.columns.indexOf('seq');
    const deviceAt = s.columns.indexOf('device');
    for (const row of s.values) out.push(`${row[deviceAt]}:${row[seqAt]}`);
  }
  return out;
}

function countOf(ids: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

export interface Verdict {
  row: FaultRow;
  /** Ids sent but not found, or found more than once, per store; empty when exactly once everywhere. */
  missingInIncidents: string[];
  duplicatedInIncidents: string[];
  missingInInflux: string[];
}

/**
 * Exactly once: every report is one incident (found by its event id); every locker event and report is one point in
 * InfluxDB after the outbox drains (InfluxDB overwrites a same-key point, so a lost point shows as missing here).
 */
export async function verify(
  hub: HubProcess,
  devices: SimDevice[],
  fault: string,
  note = '',
): Promise<Verdict> {
  await hub.request({ cmd: 'drain', timeoutMs: 90_000 }, 120_000);
  const prefix = devices[0]?.id.replace(/-\d+$/, '') ?? '';
  const regex = `/^${prefix}-[0-9]+$/`;
  const [lockerSeries, reportSeries, incidents] = await Promise.all([
    hub.request<Series[]>({
      cmd: 'query',
      influxql: `SELECT "seq", "device" FROM "locker_event" WHERE "device" =~ ${regex}`,
    }),
    hub.request<Series[]>({
      cmd: 'query',
      influxql: `SELECT "seq", "device" FROM "report" WHERE "device" =~ ${regex}`,
    }),
    hub.request<{ eventId: string }[]>({ cmd: 'incidents' }),
  ]);
  const sentLockers = devices.flatMap((d) => d.sent.lockers);
  const sentReports = devices.flatMap((d) => d.sent.reports);
  const influxIds = new Set([...idsFrom(lockerSeries), ...idsFrom(reportSeries)]);
  const incidentCounts = countOf(incidents.map((i) => i.eventId));
  const missingInIncidents = sentReports.filter((id) => !incidentCounts.has(id));
  const duplicatedInIncidents = sentReports.filter((id) => (incidentCounts.get(id) ?? 0) > 1);
  const missingInInflux = [...sentLockers, ...sentReports].filter((id) => !influxIds.has(id));
  const sent = sentLockers.length + sentReports.length;
  const row: FaultRow = {
    fault,
    eventsSent: sent,
    eventsStored: sent - missingInInflux.length,
    duplicates: duplicatedInIncidents.length,
    reportsSent: sentReports.length,
    reportsLost: missingInIncidents.length,
    note,
  };
  faultRows.push(row);
  return { row, missingInIncidents, duplicatedInIncidents, missingInInflux };
}

export function faultTable(rows: FaultRow[] = faultRows): string {
  return markdownTable(
    ['fault', 'events sent', 'events stored', 'duplicates', 'reports sent', 'reports lost', 'note'],
    rows.map((r) => [
      r.fault,
      r.eventsSent,
      r.eventsStored,
      r.duplicates,
      r.reportsSent,
      r.reportsLost,
      r.note,
    ]),
  );
}

/** Writes this file's rows into its own section of artifacts/fault-results.md. */
export function publishFaultTable(section: string, title: string, extra = ''): void {
  const table = faultTable();
  process.stdout.write(`\n${table}\n${extra}\n`);
  replaceSection(
    `faults-${section}`,
    `## Fault suite: ${title} (\`npm run test:faults\`)\n\n${new Date().toISOString()}, node ${process.version}. ` +
      'Events = locker events + report presses from light MQTT devices that journal until confirmed and resend ' +
      'with the same id (the real device protocol). Stored = found exactly once in InfluxDB after the outbox ' +
      'drained; reports lost = report ids with no incident in the hub log.\n\n' +
      `${table}\n${extra}`,
  );
}

/** Every report an incident once, every event in InfluxDB: the fault suite's verdict on a verify(). */
export function expectExactlyOnce(v: Verdict): void {
  expect(v.missingInIncidents, 'reports without an incident').toEqual([]);
  expect(v.duplicatedInIncidents, 'reports stored twice').toEqual([]);
  expect(v.missingInInflux, 'events missing in InfluxDB').toEqual([]);
  expect(v.row.reportsLost).toBe(0);
}

/** Polls the hub's stats until `ok` holds; a timeout names what it waited for and the stats last seen. */
export async function waitForStats(
  hub: HubProcess,
  ok: (s: HubStats) => boolean,
  what: string,
  ms = 60_000,
): Promise<HubStats> {
  const deadline = Date.now() + ms;
  for (;;) {
    const stats = await hub.stats();
    if (ok(stats)) return stats;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; last stats: ${JSON.stringify({ storage: stats.storage, influxd: stats.influxd })}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * R7 after a fault: the hub restarted on its data reads each device's chain from disk, and each device's next event
 * points at its newest, which must be there (no gap open, none declared), and everything is still stored exactly once.
 * Stops the devices.
 */
export async function expectWholeAfterRestart(
  hub: HubProcess,
  devices: SimDevice[],
  fault: string,
  note: string,
): Promise<void> {
  await hub.restart();
  for (const d of devices) d.lockerEvent('locked', 0);
  await settle(devices, 90_000);
  const chain = await hub.request<ChainReport>({ cmd: 'chain' });
  const restarted = await verify(hub, devices, fault, note);
  await Promise.all(devices.map((d) => d.stop()));
  expectExactlyOnce(restarted);
  expect(chain).toEqual({ gaps: 0, breaks: 0, open: 0 });
}
