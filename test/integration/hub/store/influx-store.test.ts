/**
 * Against a real private influxd (Debian's influxdb 1.6 package), no mocks. One server for most tests; the
 * lifecycle tests at the end stop, crash, hang and restart it on the same data dir.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InfluxdHandle,
  InfluxdMissingError,
  InfluxdStartError,
  startInfluxd,
} from '../../../../hub/influx/influxd-process.js';
import { InfluxStore } from '../../../../hub/store/influx-store.js';
import { msTime, quoteIdent, quoteString } from '../../../../hub/store/influxql.js';
import {
  type MetricPoint,
  StoreRejectedError,
  StoreUnavailableError,
} from '../../../../hub/store/metrics-store.js';

const DB = 'phones_away_test';
const T0 = 1_700_000_000_123; // deliberately not a whole second

let dir: string;
let influxd: InfluxdHandle;
let store: InfluxStore;
const handles: InfluxdHandle[] = [];

async function start(): Promise<InfluxdHandle> {
  const h = await startInfluxd({ dataDir: join(dir, 'influx'), database: DB });
  handles.push(h);
  return h;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pa-influx-'));
  const t = performance.now();
  influxd = await start();
  console.info(`influxd start (fresh dir): ${(performance.now() - t).toFixed(0)} ms`);
  store = new InfluxStore({ url: influxd.url, database: DB });
});

afterAll(async () => {
  await Promise.all(handles.map((h) => h.stop()));
  await rm(dir, { recursive: true, force: true });
});

describe('private influxd', () => {
  it('binds loopback on a non-default port and writes its files under the data dir', async () => {
    expect(influxd.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(influxd.url).not.toContain(':8086');
    const conf = await readFile(join(dir, 'influx', 'influxd.conf'), 'utf8');
    expect(conf).not.toContain('/var/lib/influxdb');
    expect(conf).toContain('store-enabled = false');
    expect(await readFile(join(dir, 'influx', 'influxd.pid'), 'utf8')).toBe(`${influxd.pid}\n`);
    expect(await store.query('SHOW DATABASES')).toEqual([
      { name: 'databases', columns: ['name'], values: expect.arrayContaining([[DB]]) },
    ]);
  });
});

describe('InfluxStore', () => {
  it('round-trips points at ms precision, exactly', async () => {
    const points: MetricPoint[] = [
      {
        measurement: 'roundtrip',
        tags: { room: 'B 12,=x', bay: '1' },
        fields: {
          phones: 3,
          temp: 21.25,
          big: 1e21,
          tiny: 1.5e-7,
          neg: -0.5,
          open: true,
          note: 'a "q" \\ ✓\nline2\\',
        },
        ts: T0,
      },
      {
        measurement: 'roundtrip',
        tags: { room: 'B 12,=x', bay: '1' },
        fields: { phones: 0, open: false },
        ts: T0 + 1,
      },
    ];
    await store.writePoints(points);
    const [series, ...rest] = await store.query(
      `SELECT * FROM roundtrip WHERE room = ${quoteString('B 12,=x')}`,
    );
    expect(rest).toEqual([]);
    expect(series?.columns).toEqual([
      'time',
      'bay',
      'big',
      'neg',
      'note',
      'open',
      'phones',
      'room',
      'temp',
      'tiny',
    ]);
    expect(series?.values).toEqual([
      [T0, '1', 1e21, -0.5, 'a "q" \\ ✓\nline2\\', true, 3, 'B 12,=x', 21.25, 1.5e-7],
      [T0 + 1, '1', null, null, null, false, 0, 'B 12,=x', null, null],
    ]);
  });

  it('quoteIdent/quoteString survive hostile names against the real parser', async () => {
    const m = 'we"ird \\m\'s';
    const tag = 'it\'s \\ "odd"';
    await store.writePoints([{ measurement: m, tags: { t: tag }, fields: { v: 1 }, ts: T0 }]);
    const rows = await store.query(
      `SELECT ${quoteIdent('v')} FROM ${quoteIdent(DB, 'autogen', m)} WHERE ${quoteIdent('t')} = ${quoteString(tag)}`,
    );
    expect(rows).toEqual([{ name: m, columns: ['time', 'v'], values: [[T0, 1]] }]);
  });

  it('returns tags per series for GROUP BY', async () => {
    await store.writePoints([
      { measurement: 'grouped', tags: { room: 'a' }, fields: { v: 1 }, ts: T0 },
      { measurement: 'grouped', tags: { room: 'b' }, fields: { v: 2 }, ts: T0 },
    ]);
    const series = await store.query(
      `SELECT sum(v) FROM grouped WHERE time >= ${msTime(T0)} AND time <= ${msTime(T0)} GROUP BY room`,
    );
    expect(series).toEqual([
      { name: 'grouped', tags: { room: 'a' }, columns: ['time', 'sum'], values: [[T0, 1]] },
      { name: 'grouped', tags: { room: 'b' }, columns: ['time', 'sum'], values: [[T0, 2]] },
    ]);
  });

  it('is idempotent: same measurement + tags + timestamp overwrites', async () => {
    const p = (v: number): MetricPoint => ({
      measurement: 'idem',
      tags: { room: 'r1' },
      fields: { v },
      ts: T0,
    });
    await store.writePoints([p(1)]);
    await store.writePoints([p(1)]); // an outbox retry of the same batch
    await store.writePoints([p(2)]);
    expect(await store.query('SELECT count(v), last(v) FROM idem')).toEqual([
      { name: 'idem', columns: ['time', 'count', 'last'], values: [[0, 1, 2]] },
    ]);
  });

  it('writes a 10k-point batch (split into 5000-line requests)', async () => {
    const points: MetricPoint[] = Array.from({ length: 10_000 }, (_, i) => ({
      measurement: 'bulk',
      tags: { room: `r${i % 30}`, device: `d${i % 300}` },
      fields: { phones: i % 31, battery: 3.7 + (i % 10) / 100, docked: i % 2 === 0 },
      ts: T0 + i,
    }));
    const t = performance.now();
    await store.writePoints(points);
    const ms = performance.now() - t;
    console.info(`10k-point batch: ${ms.toFixed(0)} ms (${Math.round(10_000 / (ms / 1000))} points/s)`);
    expect(await store.query('SELECT count(phones) FROM bulk')).toEqual([
      { name: 'bulk', columns: ['time', 'count'], values: [[0, 10_000]] },
    ]);
  });

  it('a field type conflict is StoreRejectedError (400) and the valid points of the batch still land', async () => {
    await store.writePoints([{ measurement: 'conflict', tags: {}, fields: { v: 1 }, ts: T0 }]);
    const err = await store
      .writePoints([
        { measurement: 'conflict', tags: {}, fields: { v: 'now a string' }, ts: T0 + 1 },
        { measurement: 'conflict', tags: {}, fields: { v: 3 }, ts: T0 + 2 },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreRejectedError);
    expect(err).toMatchObject({ code: 'E_STORE_REJECTED', status: 400 });
    expect((err as Error).message).toContain('field type conflict');
    expect((await store.query('SELECT v FROM conflict'))[0]?.values).toEqual([
      [T0, 1],
      [T0 + 2, 3],
    ]);
  });

  it('a locally invalid point is StoreRejectedError and does not block the rest', async () => {
    const err = await store
      .writePoints([
        { measurement: 'partial', tags: {}, fields: { v: Number.NaN }, ts: T0 },
        { measurement: 'partial', tags: {}, fields: { v: 7 }, ts: T0 + 1 },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreRejectedError);
    expect((err as Error).message).toMatch(/1 of 2 points rejected.*not finite/);
    expect((await store.query('SELECT v FROM partial'))[0]?.values).toEqual([[T0 + 1, 7]]);
  });

  it('a bad query is StoreRejectedError', async () => {
    await expect(store.query('SELEC nonsense')).rejects.toMatchObject({
      code: 'E_STORE_REJECTED',
      status: 400,
    });
    await expect(store.query('SELECT v FROM nowhere; SELECT * FROM')).rejects.toBeInstanceOf(
      StoreRejectedError,
    );
  });

  it('a missing database is StoreUnavailableError, not rejected (the batch must be kept)', async () => {
    const other = new InfluxStore({ url: influxd.url, database: 'does_not_exist' });
    await expect(
      other.writePoints([{ measurement: 'm', tags: {}, fields: { v: 1 }, ts: T0 }]),
    ).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE', status: 404 });
    await other.ensureDatabase();
    await other.writePoints([{ measurement: 'm', tags: {}, fields: { v: 1 }, ts: T0 }]);
  });
});

describe('lifecycle (same data dir)', () => {
  it('stopped influxd: ping() is false, writes and queries are StoreUnavailableError; restart keeps the data', async () => {
    await influxd.stop();
    await influxd.stop(); // idempotent
    expect(await store.ping()).toBe(false);
    const point: MetricPoint = { measurement: 'idem', tags: { room: 'r1' }, fields: { v: 9 }, ts: T0 };
    const err = await store.writePoints([point]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err).toMatchObject({ code: 'E_STORE_UNAVAILABLE' });
    expect((err as Error).message).toContain('ECONNREFUSED');
    await expect(store.query('SELECT * FROM idem')).rejects.toBeInstanceOf(StoreUnavailableError);

    const t = performance.now();
    influxd = await start();
    console.info(`influxd restart (existing data): ${(performance.now() - t).toFixed(0)} ms`);
    store = new InfluxStore({ url: influxd.url, database: DB });
    expect(await store.ping()).toBe(true);
    expect(await store.query('SELECT count(phones) FROM bulk')).toEqual([
      { name: 'bulk', columns: ['time', 'count'], values: [[0, 10_000]] },
    ]);
    expect((await store.query('SELECT v FROM idem'))[0]?.values).toEqual([[T0, 2]]);
  });

  it('a crash (SIGKILL) loses no acknowledged write', async () => {
    await store.writePoints([{ measurement: 'crash', tags: {}, fields: { v: 42 }, ts: T0 }]);
    influxd.kill('SIGKILL');
    expect(await influxd.exited).toEqual({ code: null, signal: 'SIGKILL' });
    influxd = await start();
    store = new InfluxStore({ url: influxd.url, database: DB });
    expect((await store.query('SELECT v FROM crash'))[0]?.values).toEqual([[T0, 42]]);
  });

  it('a hung influxd (SIGSTOP) times out as StoreUnavailableError, and stop() still ends it', async () => {
    const impatient = new InfluxStore({ url: influxd.url, database: DB, timeoutMs: 300, pingTimeoutMs: 300 });
    influxd.kill('SIGSTOP');
    // SIGSTOP lands asynchronously on a multi-threaded Go process: wait for the kernel to report it stopped.
    const stat = () => readFile(`/proc/${influxd.pid}/stat`, 'utf8');
    while (!/^\d+ \(.*\) T /.test(await stat())) await new Promise((r) => setTimeout(r, 10));
    try {
      expect(await impatient.ping()).toBe(false);
      await expect(
        impatient.writePoints([{ measurement: 'm', tags: {}, fields: { v: 1 }, ts: T0 }]),
      ).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE', message: expect.stringMatching(/timed out/) });
    } finally {
      const t = performance.now();
      await influxd.stop();
      expect(performance.now() - t).toBeLessThan(4_000); // SIGCONT lets it honour SIGTERM
    }
  });

  it('a leftover influxd on the same dir (hub crashed) is stopped before a new one starts', async () => {
    const first = await start();
    const second = await start();
    expect(await first.exited).toMatchObject({ code: 0 });
    expect(second.pid).not.toBe(first.pid);
    const s = new InfluxStore({ url: second.url, database: DB });
    expect((await s.query('SELECT v FROM crash'))[0]?.values).toEqual([[T0, 42]]);
    await second.stop();
  });

  it('a missing binary is InfluxdMissingError telling how to install it', async () => {
    const err = await startInfluxd({
      dataDir: join(dir, 'x'),
      database: DB,
      binary: '/nonexistent/influxd',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxdMissingError);
    expect(err).toMatchObject({ code: 'E_INFLUXD_MISSING' });
    expect((err as Error).message).toContain('node scripts/ensure-system-deps.mjs influxdb');
    expect((err as Error).message).toContain('sudo apt-get install influxdb');
  });

  it('retries once with new ports when influxd loses the port race', async () => {
    // First run fails exactly as influxd does when a port is taken; the second execs the real influxd.
    const marker = join(dir, 'raced');
    const flaky = join(dir, 'flaky-influxd');
    const script = `#!/bin/sh
if [ ! -e ${marker} ]; then touch ${marker}; echo "listen tcp 127.0.0.1:1: bind: address already in use" >&2; exit 1; fi
exec /usr/bin/influxd "$@"
`;
    await writeFile(flaky, script, { mode: 0o755 });
    const h = await startInfluxd({ dataDir: join(dir, 'race'), database: DB, binary: flaky });
    handles.push(h);
    expect(await new InfluxStore({ url: h.url, database: DB }).ping()).toBe(true);
    await h.stop();
  });

  it('an influxd that never answers is InfluxdStartError after the timeout, and is killed', async () => {
    const mute = join(dir, 'mute-influxd');
    const mutePid = join(dir, 'mute.pid');
    await writeFile(mute, `#!/bin/sh\necho $$ > ${mutePid}\nexec sleep 30\n`, { mode: 0o755 });
    const t = performance.now();
    const err = await startInfluxd({
      dataDir: join(dir, 'mute'),
      database: DB,
      binary: mute,
      startTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(performance.now() - t).toBeLessThan(3_000);
    expect(err).toMatchObject({
      code: 'E_INFLUXD_START',
      message: expect.stringMatching(/did not answer \/ping within 500 ms/),
    });
    const pid = Number(await readFile(mutePid, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('a binary that dies at start is InfluxdStartError with the tail of its log', async () => {
    const fake = join(dir, 'fake-influxd');
    await writeFile(fake, '#!/bin/sh\necho "run: open server: boom on purpose" >&2\nexit 3\n', {
      mode: 0o755,
    });
    const err = await startInfluxd({ dataDir: join(dir, 'y'), database: DB, binary: fake }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InfluxdStartError);
    expect(err).toMatchObject({ code: 'E_INFLUXD_START' });
    expect((err as Error).message).toMatch(/exited during start \(code 3[\s\S]*boom on purpose/);
  });
});
