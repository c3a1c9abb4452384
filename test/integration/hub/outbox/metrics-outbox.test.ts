/**
 * The durable outbox (D5) against a real LevelDB and a real private influxd: the pipelined flush loop (read ahead,
 * deletes of delivered batches) delivers every point exactly once, deletes only what the store accepted, and drain() neither
 * returns early nor loses points while the store is away.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchOp, HubDb } from '../../../../hub/db/hub-db.js';
import { type InfluxdHandle, startInfluxd } from '../../../../hub/influx/influxd-process.js';
import { silentLogger } from '../../../../hub/log.js';
import { MetricsOutbox, OutboxDrainTimeoutError } from '../../../../hub/outbox/metrics-outbox.js';
import { InfluxStore } from '../../../../hub/store/influx-store.js';
import {
  type MetricPoint,
  type MetricsStore,
  StoreUnavailableError,
} from '../../../../hub/store/metrics-store.js';

const DB = 'phones_away_outbox_test';
const T0 = 1_700_000_000_000;
let dir: string;
let influxd: InfluxdHandle;

const point = (m: string, i: number): MetricPoint => ({
  measurement: m,
  tags: { site: 'demo-school', room: `room-${(i % 7) + 1}`, device: `dev-${(i % 7) + 1}` },
  fields: { seq: i },
  ts: T0 + i,
});

async function count(store: InfluxStore, m: string): Promise<number> {
  const series = await store.query(`SELECT count("seq") FROM "${m}"`);
  return Number(series[0]?.values[0]?.[1] ?? 0);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pa-outbox-'));
  influxd = await startInfluxd({ dataDir: join(dir, 'influx'), database: DB, log: silentLogger });
});

afterAll(async () => {
  await influxd?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('metrics outbox', () => {
  it('D5: a backlog of many batches, enqueued while flushing, arrives exactly once and leaves the outbox empty', async () => {
    const db = await HubDb.open(join(dir, 'db-backlog'));
    const store = new InfluxStore({ url: influxd.url, database: DB });
    const outbox = new MetricsOutbox(db, store, silentLogger, { batchSize: 40 });
    try {
      await outbox.enqueue(Array.from({ length: 500 }, (_, i) => point('backlog', i)));
      outbox.start();
      // More arrives while the loop is mid-pass (read-ahead cursor past the first keys).
      for (let i = 500; i < 1000; i += 100)
        await outbox.enqueue(Array.from({ length: 100 }, (_, k) => point('backlog', i + k)));
      await outbox.drain(20_000);
      expect(await outbox.pending()).toBe(0);
      expect(await count(store, 'backlog')).toBe(1000);
      expect(outbox.delivered).toBe(1000);
    } finally {
      await outbox.stop();
      await db.close();
    }
  });

  it('D5: with the store unreachable drain() times out with a clear error and every point stays queued', async () => {
    const db = await HubDb.open(join(dir, 'db-down'));
    // Nothing listens on port 9 (discard) here: every write fails as unavailable.
    const down = new InfluxStore({ url: 'http://127.0.0.1:9', database: DB, timeoutMs: 500 });
    const outbox = new MetricsOutbox(db, down, silentLogger, { batchSize: 40, minBackoffMs: 50 });
    try {
      await outbox.enqueue(Array.from({ length: 100 }, (_, i) => point('down', i)));
      outbox.start();
      await expect(outbox.drain(600)).rejects.toBeInstanceOf(OutboxDrainTimeoutError);
      expect(outbox.lastError).toMatch(/write to/);
      await outbox.stop();
      expect(await outbox.pending()).toBe(100);
      // The store comes back (a new outbox on the same data, as after a restart): all of it is delivered.
      const store = new InfluxStore({ url: influxd.url, database: DB });
      const again = new MetricsOutbox(db, store, silentLogger, { batchSize: 40 });
      again.start();
      await again.drain(20_000);
      await again.stop();
      expect(await again.pending()).toBe(0);
      expect(await count(store, 'down')).toBe(100);
    } finally {
      await outbox.stop();
      await db.close();
    }
  });

  it('D5: telemetry offered in memory reaches the store through drain() without a write to the outbox on disk', async () => {
    const db = await HubDb.open(join(dir, 'db-telemetry'));
    const store = new InfluxStore({ url: influxd.url, database: DB });
    const outbox = new MetricsOutbox(db, store, silentLogger, { batchSize: 40 });
    try {
      outbox.start();
      for (let i = 0; i < 300; i++) outbox.offer(point('telemetry', i));
      expect(outbox.waiting()).toBe(300); // before any await: the flush loop has not had a turn yet
      expect(await db.count('outbox')).toBe(0);
      await outbox.drain(20_000);
      expect(await count(store, 'telemetry')).toBe(300);
      expect(outbox.waiting()).toBe(0);
    } finally {
      await outbox.stop();
      await db.close();
    }
  });

  it('D5: telemetry is spilled to the durable outbox when the store is down, and delivered from there later', async () => {
    const db = await HubDb.open(join(dir, 'db-telemetry-down'));
    const down = new InfluxStore({ url: 'http://127.0.0.1:9', database: DB, timeoutMs: 500 });
    const outbox = new MetricsOutbox(db, down, silentLogger, { batchSize: 40, minBackoffMs: 50 });
    try {
      outbox.start();
      for (let i = 0; i < 120; i++) outbox.offer(point('spilled', i));
      await expect(outbox.drain(800)).rejects.toBeInstanceOf(OutboxDrainTimeoutError);
      expect(await db.count('outbox')).toBe(120);
      await outbox.stop();
      const store = new InfluxStore({ url: influxd.url, database: DB });
      const again = new MetricsOutbox(db, store, silentLogger, { batchSize: 40 });
      again.start();
      await again.drain(20_000);
      await again.stop();
      expect(await count(store, 'spilled')).toBe(120);
      expect(await db.count('outbox')).toBe(0);
    } finally {
      await outbox.stop();
      await db.close();
    }
  });

  it('D5: telemetry beyond maxTelemetry, and whatever is held at stop(), goes to disk rather than being lost', async () => {
    const db = await HubDb.open(join(dir, 'db-telemetry-bound'));
    const down = new InfluxStore({ url: 'http://127.0.0.1:9', database: DB, timeoutMs: 500 });
    // Never started: nothing flushes, so only the bound and stop() move points to disk.
    const outbox = new MetricsOutbox(db, down, silentLogger, { batchSize: 1000, maxTelemetry: 50 });
    try {
      for (let i = 0; i < 75; i++) outbox.offer(point('bound', i));
      await outbox.stop();
      expect(await db.count('outbox')).toBe(75);
      expect(outbox.telemetryDropped).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('D5: with writes in flight, an outage mid-backlog loses nothing and deletes only what the store took', async () => {
    const db = await HubDb.open(join(dir, 'db-pipeline'));
    const real = new InfluxStore({ url: influxd.url, database: DB });
    const written = new Set<number>();
    let calls = 0;
    // The third write fails as an outage would, while the fourth is already on its way.
    const store: MetricsStore = {
      async writePoints(points) {
        calls += 1;
        if (calls === 3) throw new StoreUnavailableError('influxd went away');
        await real.writePoints(points);
        for (const p of points) written.add(p.fields.seq as number);
      },
      query: (q) => real.query(q),
      ping: () => real.ping(),
    };
    const outbox = new MetricsOutbox(db, store, silentLogger, { batchSize: 50, minBackoffMs: 20 });
    try {
      await outbox.enqueue(Array.from({ length: 600 }, (_, i) => point('pipeline', i)));
      outbox.start();
      await outbox.drain(20_000);
      expect(calls).toBeGreaterThan(12);
      expect(written.size).toBe(600);
      expect(await db.count('outbox')).toBe(0);
      expect(await count(real, 'pipeline')).toBe(600);
    } finally {
      await outbox.stop();
      await db.close();
    }
  });

  it('D5: a point whose write commits after a later key was read is still delivered (keys commit out of order)', async () => {
    // A report's handler builds its outbox ops (its key is handed out), then awaits before its batch is written, so
    // another device's event with a later key can be on disk first. Here the earlier key commits while the batch read
    // around it is being written: exactly between the drain's read and its delete. A delete of the delivered batch as
    // a key range [first, last] removed that point undelivered (the disk-full fault test lost one this way).
    const db = await HubDb.open(join(dir, 'db-order'));
    const real = new InfluxStore({ url: influxd.url, database: DB });
    let late: BatchOp[] = [];
    let lateCommitted = false;
    const store: MetricsStore = {
      encode: (p) => real.encode(p),
      writePoints: (points) => real.writePoints(points),
      async writeEncoded(lines) {
        if (!lateCommitted) {
          lateCommitted = true;
          await db.batch(late);
        }
        await real.writeEncoded(lines);
      },
      query: (q) => real.query(q),
      ping: () => real.ping(),
    };
    const outbox = new MetricsOutbox(db, store, silentLogger, { batchSize: 10 });
    try {
      const before = outbox.enqueueOps([point('order', 0)]);
      late = outbox.enqueueOps([point('order', 1)]);
      const after = outbox.enqueueOps([point('order', 2)]);
      await db.batch([...before, ...after]);
      // The first read holds the keys on both sides of the late one, and not the late one itself.
      expect(await db.count('outbox')).toBe(2);
      outbox.start();
      await outbox.drain(20_000);
      expect(lateCommitted).toBe(true);
      expect(await db.count('outbox')).toBe(0);
      expect(await count(real, 'order')).toBe(3);
    } finally {
      await outbox.stop();
      await db.close();
    }
  });

  it('D5: points are queued encoded; points an older hub queued as objects and lines influxd refuses drain beside them', async () => {
    const db = await HubDb.open(join(dir, 'db-encoded'));
    const store = new InfluxStore({ url: influxd.url, database: DB });
    const outbox = new MetricsOutbox(db, store, silentLogger, { batchSize: 40 });
    try {
      // As an older hub left them: the point objects themselves, keyed before anything this boot queues.
      await db.batch(
        Array.from({ length: 30 }, (_, i) => ({
          type: 'put' as const,
          sublevel: 'outbox' as const,
          key: `000000000-${i.toString(36).padStart(8, '0')}`,
          value: point('encoded', i),
        })),
      );
      // A field type conflict: InfluxDB itself refuses this line (the encoding is valid), so only a write finds it.
      await outbox.enqueue([
        ...Array.from({ length: 70 }, (_, i) => point('encoded', 30 + i)),
        { ...point('encoded', 100), fields: { seq: 'not a number' } },
      ]);
      const queued = await db.values<unknown>('outbox');
      expect(queued.filter((v) => typeof v === 'string')).toHaveLength(71);
      expect(queued[30]).toBe(store.encode(point('encoded', 30)));
      outbox.start();
      await outbox.drain(20_000);
      expect(await db.count('outbox')).toBe(0);
      expect(await count(store, 'encoded')).toBe(100);
      const dead = await db.values<{ point: unknown; reason: string }>('outbox-dead');
      expect(dead).toHaveLength(1);
      expect(dead[0]?.point).toMatch(/^encoded,.* seq="not a number" /);
      expect(dead[0]?.reason).toMatch(/conflict/);
    } finally {
      await outbox.stop();
      await db.close();
    }
  });

  it('D5: points the store refuses are set aside with the reason; the rest of every batch is delivered', async () => {
    const db = await HubDb.open(join(dir, 'db-rejected'));
    const store = new InfluxStore({ url: influxd.url, database: DB });
    const outbox = new MetricsOutbox(db, store, silentLogger, { batchSize: 40 });
    try {
      const points = Array.from({ length: 200 }, (_, i) =>
        i % 50 === 7 ? { ...point('rejected', i), fields: { seq: Number.NaN } } : point('rejected', i),
      );
      await outbox.enqueue(points);
      outbox.start();
      await outbox.drain(20_000);
      expect(await db.count('outbox')).toBe(0);
      const dead = await db.values<{ reason: string }>('outbox-dead');
      expect(dead).toHaveLength(4);
      // NaN is stored as JSON null: refused as a field of unsupported type.
      expect(dead[0]?.reason).toMatch(/field "seq"/);
      expect(await count(store, 'rejected')).toBe(196);
    } finally {
      await outbox.stop();
      await db.close();
    }
  });
});
