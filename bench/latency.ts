/**
 * Scenarios d and e of `npm run bench`:
 *  d. report latency: button pin edge on an emulated Uno → incident at a signed-in dashboard SSE client, and pin
 *     edge → the device's ack light ('confirmed'), with `rooms` rooms live: a few real emulated boards (each chip in a
 *     worker thread, most of a core at real speed) and light simulated devices (test/support/sim-device.ts: heartbeats every 10 s and
 *     an occasional report) for the rest.
 *  e. the device program's process (emulator + johnny-five + device program) RSS and CPU, idle and during lesson
 *     changes (the hub sends lock + signage commands).
 * Processes: hub (child), boards (bench/workers/board-load.ts), and this one (SSE client + simulated rooms).
 * Times are epoch ms with sub-ms resolution (performance.timeOrigin + now()) on one host, so they compare across them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type DeviceAddress, topics } from '../schemas/topics.js';
import type { HubProcess } from '../test/support/hub-process.js';
import { SimDevice } from '../test/support/sim-device.js';
import { StaffClient } from '../test/support/staff-client.js';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface LatencyContext {
  hub: HubProcess;
  boardWorker: { call<T>(message: Record<string, unknown>, timeoutMs?: number): Promise<T> };
  site: string;
  secret: string;
  rooms: number;
  boards: number;
  presses: number;
  deviceWindowMs: number;
  /** Emulated Uno speed (1 = real time). */
  speed: number;
  log: (line: string) => void;
}

export interface LatencyResult {
  sse: number[];
  light: number[];
  missedSse: number;
  /** Where the SSE time goes (ms, device/hub clocks are the same host's): edge → device stamps the report, → hub
   * stamps receipt (journal, MQTT, ingest start), → client has it (store with fsync, SSE). */
  split: { toDevice: number[]; toHub: number[]; toClient: number[] };
  simReports: number;
  simHeartbeats: number;
  device: { phase: string; rssMB: number; cpuPct: number }[];
  boardAddresses: DeviceAddress[];
}

/** Which provisioned devices are real boards and which are simulated rooms. */
export function latencyDevices(site: string, rooms: number, boards: number) {
  return Array.from({ length: rooms }, (_, i) => ({
    id: `lat-room-${i + 1}-locker`,
    site,
    room: `lat-room-${i + 1}`,
    board: i < boards,
  }));
}

/**
 * A signed-in SSE client: records when each new incident (by id) reaches it. It is the designated safeguarding lead,
 * who sees every report in full: the first-run administrator's stream carries no report at all (S5), so a bench signed
 * in as admin waited out every press and measured nothing.
 */
async function openStream(hub: HubProcess) {
  const password = randomBytes(18).toString('base64url');
  await hub.request({ cmd: 'add-user', username: 'bench-dsl', password, roles: ['dsl'] });
  const staff = new StaffClient(hub.ready!.httpUrl, 'bench-dsl', password);
  const reply = await staff.signIn(); // enrols the DSL's second factor (S3) and answers it
  if (reply.body.status !== 'ok') throw new Error(`sign-in failed: ${reply.text}`);
  const seen = new Set<string>();
  const arrivals: { device: string; at: number; reportedAt: number; receivedAt: number }[] = [];
  const abort = new AbortController();
  const response = await fetch(`${hub.ready!.httpUrl}/api/stream`, {
    headers: { cookie: staff.cookie, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (!response.ok || !response.body) throw new Error(`stream: HTTP ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      const at = now();
      buffer += value;
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf('\n\n');
        if (!frame.startsWith('event: incident\n')) continue;
        const data = JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as {
          id: string;
          device: string;
          kind: string;
          reportedAt: number;
          receivedAt: number;
        };
        if (data.kind !== 'report' || seen.has(data.id)) continue;
        seen.add(data.id);
        arrivals.push({ device: data.device, at, reportedAt: data.reportedAt, receivedAt: data.receivedAt });
      }
    }
  })();
  return {
    arrivals,
    close: async () => {
      abort.abort();
      await pump;
    },
  };
}

export async function runLatency(ctx: LatencyContext): Promise<LatencyResult> {
  const { hub, boardWorker, log } = ctx;
  const all = latencyDevices(ctx.site, ctx.rooms, ctx.boards);
  const address = (d: (typeof all)[number]): DeviceAddress => ({ site: d.site, room: d.room, device: d.id });
  const boardAddresses = all.filter((d) => d.board).map(address);
  const dir = mkdtempSync(join(process.env.BENCH_DEVICE_DIR ?? os.tmpdir(), 'phones-away-bench-boards-'));
  const stream = await openStream(hub);
  const sims = all
    .filter((d) => !d.board)
    // Chained as the firmware seals its events: unchained, each heartbeat was a chain fault the hub logged (R7).
    .map(
      (d) => new SimDevice({ port: hub.mqttPort, address: address(d), secret: ctx.secret, chained: true }),
    );
  await Promise.all(sims.map((s) => s.start()));
  // Simulated rooms: heartbeats every 10 s (spread), and on average one report per room every 2 minutes.
  let simReports = 0;
  const timers = sims.map((s, i) =>
    setTimeout(() => {
      s.heartbeat();
      timers[i] = setInterval(() => {
        s.heartbeat();
        if (Math.random() < 1 / 12) {
          s.report();
          simReports += 1;
        }
      }, 10_000);
    }, Math.random() * 10_000),
  );
  const result: LatencyResult = {
    sse: [],
    light: [],
    missedSse: 0,
    split: { toDevice: [], toHub: [], toClient: [] },
    simReports: 0,
    simHeartbeats: 0,
    device: [],
    boardAddresses,
  };
  try {
    await boardWorker.call({
      cmd: 'start',
      port: hub.mqttPort,
      dir,
      speed: ctx.speed,
      boards: boardAddresses.map((a) => ({ address: a, secret: ctx.secret })),
    });
    log(
      `latency: ${ctx.boards} emulated board(s) at ${ctx.speed}× speed + ${sims.length} simulated rooms; ${ctx.presses} presses`,
    );
    const warmup = Math.min(4, ctx.presses);
    for (let k = 0; k < ctx.presses + warmup; k++) {
      const index = k % ctx.boards;
      const device = boardAddresses[index]!.device;
      const { edgeAt, lightAt } = await boardWorker.call<{ edgeAt: number; lightAt: number | null }>({
        cmd: 'press',
        index,
        holdMs: 120,
      });
      const deadline = Date.now() + 5_000;
      let arrival: (typeof stream.arrivals)[number] | undefined;
      while (!arrival && Date.now() < deadline) {
        arrival = stream.arrivals.find((a) => a.device === device && a.at >= edgeAt);
        if (!arrival) await sleep(5);
      }
      // Forget what was matched (or is older), so the next press on this board finds its own incident.
      for (let i = stream.arrivals.length - 1; i >= 0; i--)
        if (stream.arrivals[i]!.device === device) stream.arrivals.splice(i, 1);
      if (k < warmup) continue;
      if (lightAt === null) {
        log(
          `latency: press ${k} on ${device} raised no report (no ack light within 10 s); counted as not seen`,
        );
        result.missedSse += 1;
        continue;
      }
      result.light.push(lightAt - edgeAt);
      if (arrival) {
        result.sse.push(arrival.at - edgeAt);
        result.split.toDevice.push(arrival.reportedAt - edgeAt);
        result.split.toHub.push(arrival.receivedAt - arrival.reportedAt);
        result.split.toClient.push(arrival.at - arrival.receivedAt);
      } else result.missedSse += 1;
      await sleep(50 + Math.random() * 100);
    }

    if (result.sse.length === 0)
      throw new Error(
        `none of ${ctx.presses} reports reached the dashboard stream (5 s each): is its account one that reads reports?`,
      );

    // e. The board process, idle and then during lesson changes driven by the hub.
    const usage = () =>
      boardWorker.call<{ rssBytes: number; cpuMicros: number; at: number }>({ cmd: 'usage' });
    const window = async (phase: string, during: () => Promise<void>) => {
      const u0 = await usage();
      await during();
      const u1 = await usage();
      result.device.push({
        phase,
        rssMB: u1.rssBytes / 2 ** 20,
        cpuPct: ((u1.cpuMicros - u0.cpuMicros) / 1000 / (u1.at - u0.at)) * 100,
      });
    };
    await window('idle (connected, heartbeats only)', () => sleep(ctx.deviceWindowMs));
    let n = 0;
    await window('lesson changes (lock + signage every 2.5 s)', async () => {
      const end = Date.now() + ctx.deviceWindowMs;
      while (Date.now() < end) {
        n += 1;
        const locked = n % 2 === 1;
        for (const a of boardAddresses) {
          const ts = Date.now();
          const lock = { v: 1, id: `bench-${n}-l`, ts, kind: 'lock', locked, reason: 'timetable' };
          const mode = locked ? 'phones-away' : 'phones-allowed';
          const signage = { v: 1, id: `bench-${n}-s`, ts, kind: 'signage', mode };
          await hub.request({
            cmd: 'publish',
            topic: topics.set(a, 'lock'),
            payload: JSON.stringify(lock),
            qos: 1,
            retain: true,
          });
          await hub.request({
            cmd: 'publish',
            topic: topics.set(a, 'signage'),
            payload: JSON.stringify(signage),
            qos: 1,
            retain: true,
          });
        }
        await sleep(2_500);
      }
    });
  } finally {
    for (const t of timers) clearInterval(t);
    result.simReports = simReports;
    result.simHeartbeats = sims.reduce((a, s) => a + s.sent.heartbeats, 0);
    await Promise.all(sims.map((s) => s.stop()));
    await stream.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
