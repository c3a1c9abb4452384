/**
 * The hub's durable store on its own, as a benchmark floor (forked by bench/run.ts, scenario f): the same HubDb the
 * hub writes through, given the ops the hub writes for one locker event (outbox point, chain link put and the link
 * that falls out of the window deleted, chain head, dedupe key), of the sizes the hub writes, submitted as ingest
 * submits them (each device's events in order, at most 16 of a device queued, every write fsynced, group commit).
 * No MQTT, no parsing, no checks: what storing an event costs at the least, so the durable row's CPU budget can be
 * read against its parts measured in the same run (aedes alone routes, this stores).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BatchOp, HubDb } from '../../hub/db/hub-db.js';

/** Links a device's chain keeps (chain-tracker's window): each new link drops the one this far back. */
const WINDOW = 32;
/** ingest's bound of a device's writes queued (durable-writes.ts MAX_QUEUED_PER_DEVICE). */
const QUEUED_PER_DEVICE = 16;

const seqKey = (n: number) => String(n).padStart(16, '0');

/** One locker event's ops, shaped as the hub's (a line-protocol point of the hub's length, a head and a link). */
function eventOps(device: string, seq: number, outboxKey: string): BatchOp[] {
  const line =
    `locker_event,device=${device},kind=phones-in,room=bench-room-1,site=demo-school ` +
    `phones=${seq % 30}i,seq=${seq}i ${1_765_081_234_567_000_000 + seq}`;
  const ops: BatchOp[] = [
    { type: 'put', sublevel: 'outbox', key: outboxKey, value: line },
    {
      type: 'put',
      sublevel: 'chain-links',
      key: `${device}:${seqKey(seq)}`,
      value: { seq, hash: 'b'.repeat(64), ts: 1_765_081_234_567 + seq },
    },
    {
      type: 'put',
      sublevel: 'chain',
      key: device,
      value: {
        ref: { site: 'demo-school', room: 'bench-room-1', device },
        state: { v: 2, newest: seq, hash: 'a'.repeat(64), gaps: [], stored: seq, missing: 0, at: seq },
      },
    },
    { type: 'put', sublevel: 'dedupe', key: randomUUID(), value: 'locker-event' },
  ];
  if (seq > WINDOW)
    ops.push({ type: 'del', sublevel: 'chain-links', key: `${device}:${seqKey(seq - WINDOW)}` });
  return ops;
}

/** `devices` × `perDevice` events, each device a serial sender with QUEUED_PER_DEVICE writes in flight. */
async function run(devices: number, perDevice: number): Promise<{ ms: number; writes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-storefloor-'));
  const db = await HubDb.open(dir);
  let outbox = 0;
  const t0 = performance.now();
  try {
    await Promise.all(
      Array.from({ length: devices }, async (_, d) => {
        const device = `bench-floor-${d + 1}`;
        const inFlight = new Set<Promise<void>>();
        for (let seq = 1; seq <= perDevice; seq++) {
          if (inFlight.size >= QUEUED_PER_DEVICE) await Promise.race(inFlight);
          outbox += 1;
          const write = db.batch(eventOps(device, seq, `0000000001:${seqKey(outbox)}`), { sync: true });
          inFlight.add(write);
          void write.then(() => inFlight.delete(write));
        }
        await Promise.all(inFlight);
      }),
    );
    return { ms: performance.now() - t0, writes: db.commits.writes };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.on('message', (m: { id: number; cmd: string; devices: number; perDevice: number }) => {
  if (m.cmd !== 'run') return;
  run(m.devices, m.perDevice).then(
    (value) => process.send?.({ id: m.id, ok: true, value }),
    (error: Error) => process.send?.({ id: m.id, ok: false, error: error.message }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ event: 'ready' });
