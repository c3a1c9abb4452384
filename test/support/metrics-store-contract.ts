/**
 * The MetricsStore contract (hub/store/metrics-store.ts) as one shared suite, run against every implementation, as
 * MQTT.js runs one suite against each of its stores (CONVENTIONS 7). What the hub relies on:
 *   - points read back exactly, timestamps as integer epoch milliseconds (no second or microsecond rounding), and
 *     subMsNs keeps same-millisecond events of one series apart;
 *   - a write of the same measurement + tag set + timestamp overwrites (the outbox resends, compliance re-rolls);
 *   - numbers are floats, so 1 then 1.5 in one field is not a type conflict; empty tag values are dropped;
 *   - bad points and bad queries are StoreRejectedError (never retried), and one bad point does not stop a good one;
 *   - a store that is down is StoreUnavailableError (retried), ping() false, and nothing lost once it is back;
 *   - GROUP BY tag returns one series per tag value, with its tags.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msTime, quoteIdent, quoteString } from '../../hub/store/influxql.js';
import {
  type MetricPoint,
  type MetricsStore,
  StoreRejectedError,
  StoreUnavailableError,
} from '../../hub/store/metrics-store.js';

export interface StoreUnderTest {
  /** The store to test; may be a new instance after restart() (a restarted server can move port). */
  readonly store: MetricsStore;
  /** Takes the backend down, keeping its data. Omit when the implementation cannot be down. */
  stop?(): Promise<void>;
  /** Brings a stopped backend back with its data. Required with stop. */
  restart?(): Promise<void>;
  dispose(): Promise<void>;
}

const T0 = 1_767_258_000_123; // 2026-01-01T09:00:00.123Z: deliberately not a whole second

export function describeMetricsStoreContract(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`MetricsStore contract: ${name}`, () => {
    let under: StoreUnderTest;
    // Measurement names unique to this run, so a shared backend cannot leak one test's points into another.
    const run = randomBytes(3).toString('hex');
    const m = (what: string) => `contract_${run}_${what}`;
    const store = () => under.store;
    const select = async (q: string) => store().query(q);

    beforeAll(async () => {
      under = await factory();
    });

    afterAll(async () => {
      await under?.dispose();
    });

    it('ping() is true when the store answers', async () => {
      expect(await store().ping()).toBe(true);
    });

    it('reads back what it wrote, exactly, with ms timestamps', async () => {
      await store().writePoints([
        {
          measurement: m('exact'),
          tags: { site: 'demo-school', room: 'room 1,=x' },
          fields: { ratio: 0.917, scheduled_min: 60, ok: true, grace: 'met', tiny: 1.5e-7, neg: -2.25 },
          ts: T0,
        },
        {
          measurement: m('exact'),
          tags: { site: 'demo-school', room: 'room 1,=x' },
          fields: { ratio: 1, scheduled_min: 50, ok: false, grace: 'n/a "quoted" \\ ✓' },
          ts: T0 + 1,
        },
      ]);
      const series = await select(
        `SELECT "ratio", "scheduled_min", "ok", "grace", "tiny", "neg" FROM ${quoteIdent(m('exact'))} ` +
          `WHERE "room" = ${quoteString('room 1,=x')}`,
      );
      expect(series).toEqual([
        {
          name: m('exact'),
          columns: ['time', 'ratio', 'scheduled_min', 'ok', 'grace', 'tiny', 'neg'],
          values: [
            [T0, 0.917, 60, true, 'met', 1.5e-7, -2.25],
            [T0 + 1, 1, 50, false, 'n/a "quoted" \\ ✓', null, null],
          ],
        },
      ]);
    });

    it('time is epoch ms both ways: a WHERE on ms literals selects exactly, inclusive at both ends', async () => {
      const points: MetricPoint[] = [-1, 0, 1, 2, 999, 1000].map((d) => ({
        measurement: m('epoch'),
        tags: {},
        fields: { d },
        ts: T0 + d,
      }));
      await store().writePoints(points);
      const [series] = await select(
        `SELECT "d" FROM ${quoteIdent(m('epoch'))} WHERE time >= ${msTime(T0)} AND time <= ${msTime(T0 + 999)}`,
      );
      expect(series?.values).toEqual([
        [T0, 0],
        [T0 + 1, 1],
        [T0 + 2, 2],
        [T0 + 999, 999],
      ]);
    });

    it('idempotent: the same series and timestamp overwrite; another tag set is another series', async () => {
      const p = (room: string, ratio: number): MetricPoint => ({
        measurement: m('idem'),
        tags: { room },
        fields: { ratio },
        ts: T0,
      });
      await store().writePoints([p('r1', 0.5)]);
      await store().writePoints([p('r1', 0.5)]); // an outbox retry of the same batch
      await store().writePoints([p('r1', 0.75), p('r2', 1)]); // a re-roll after a late event
      const series = await select(
        `SELECT count("ratio"), last("ratio") FROM ${quoteIdent(m('idem'))} GROUP BY "room"`,
      );
      expect(series.map((s) => [s.tags?.room, s.values[0]?.slice(1)])).toEqual([
        ['r1', [1, 0.75]],
        ['r2', [1, 1]],
      ]);
    });

    it('subMsNs keeps two points of one series in the same millisecond apart; queries read whole ms', async () => {
      await store().writePoints(
        [1, 2, 2].map((seq) => ({
          measurement: m('subms'),
          tags: { room: 'r1' },
          fields: { seq },
          ts: T0,
          subMsNs: seq,
        })),
      );
      // seq 2 twice is the same point written twice (a resend), so two points, not three.
      expect((await select(`SELECT "seq" FROM ${quoteIdent(m('subms'))}`))[0]?.values).toEqual([
        [T0, 1],
        [T0, 2],
      ]);
    });

    it('numbers are floats: an integer then a fraction in one field is no type conflict', async () => {
      await store().writePoints([{ measurement: m('float'), tags: {}, fields: { n: 1 }, ts: T0 }]);
      await store().writePoints([{ measurement: m('float'), tags: {}, fields: { n: 1.5 }, ts: T0 + 1 }]);
      expect((await select(`SELECT "n" FROM ${quoteIdent(m('float'))}`))[0]?.values).toEqual([
        [T0, 1],
        [T0 + 1, 1.5],
      ]);
    });

    it('an empty tag value is dropped, not stored as a tag', async () => {
      await store().writePoints([
        { measurement: m('emptytag'), tags: { room: 'r1', term: '' }, fields: { v: 1 }, ts: T0 },
      ]);
      const series = await select(`SELECT * FROM ${quoteIdent(m('emptytag'))} GROUP BY *`);
      expect(series).toEqual([
        { name: m('emptytag'), tags: { room: 'r1' }, columns: ['time', 'v'], values: [[T0, 1]] },
      ]);
    });

    it('GROUP BY tags: one series per tag value, carrying its tags', async () => {
      await store().writePoints(
        ['room-1', 'room-2', 'room-3'].flatMap((room, i) =>
          [0, 60_000].map((d) => ({
            measurement: m('grouped'),
            tags: { site: 'demo-school', room },
            fields: { locked_closed_min: 10 * (i + 1) },
            ts: T0 + d,
          })),
        ),
      );
      const series = await select(
        `SELECT sum("locked_closed_min") FROM ${quoteIdent(m('grouped'))} ` +
          `WHERE time >= ${msTime(T0)} AND time < ${msTime(T0 + 120_000)} GROUP BY "site", "room"`,
      );
      expect(series).toEqual(
        [10, 20, 30].map((v, i) => ({
          name: m('grouped'),
          tags: { site: 'demo-school', room: `room-${i + 1}` },
          columns: ['time', 'sum'],
          values: [[T0, 2 * v]],
        })),
      );
    });

    it('query returns the series of every statement, flattened', async () => {
      await store().writePoints([
        { measurement: m('multi_a'), tags: {}, fields: { v: 1 }, ts: T0 },
        { measurement: m('multi_b'), tags: {}, fields: { v: 2 }, ts: T0 },
      ]);
      const series = await select(
        `SELECT "v" FROM ${quoteIdent(m('multi_a'))}; SELECT "v" FROM ${quoteIdent(m('multi_b'))}`,
      );
      expect(series.map((s) => [s.name, s.values])).toEqual([
        [m('multi_a'), [[T0, 1]]],
        [m('multi_b'), [[T0, 2]]],
      ]);
    });

    it.each<[string, MetricPoint]>([
      ['a fractional timestamp', { measurement: 'x', tags: {}, fields: { v: 1 }, ts: T0 + 0.5 }],
      ['a NaN field', { measurement: 'x', tags: {}, fields: { v: Number.NaN }, ts: T0 }],
      ['an infinite field', { measurement: 'x', tags: {}, fields: { v: Number.POSITIVE_INFINITY }, ts: T0 }],
      ['no fields', { measurement: 'x', tags: {}, fields: {}, ts: T0 }],
      ['an empty measurement', { measurement: '', tags: {}, fields: { v: 1 }, ts: T0 }],
      [
        'a non-string tag',
        { measurement: 'x', tags: { room: 3 as unknown as string }, fields: { v: 1 }, ts: T0 },
      ],
      [
        'a sub-ms offset out of range',
        { measurement: 'x', tags: {}, fields: { v: 1 }, ts: T0, subMsNs: 1_000_000 },
      ],
      ['an object field', { measurement: 'x', tags: {}, fields: { v: {} as unknown as number }, ts: T0 }],
    ])('rejects %s as StoreRejectedError; the good point beside it still lands', async (_what, bad) => {
      const tag = randomBytes(3).toString('hex');
      const good: MetricPoint = { measurement: m('beside_bad'), tags: { tag }, fields: { v: 7 }, ts: T0 };
      const err = await store()
        .writePoints([{ ...bad, measurement: bad.measurement && m('bad') }, good])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreRejectedError);
      expect(err).toMatchObject({ code: 'E_STORE_REJECTED' });
      const [series] = await select(
        `SELECT "v" FROM ${quoteIdent(m('beside_bad'))} WHERE "tag" = ${quoteString(tag)}`,
      );
      expect(series?.values).toEqual([[T0, 7]]);
      expect(await select(`SELECT * FROM ${quoteIdent(m('bad'))}`)).toEqual([]);
    });

    it('rejects a field type conflict (string where a float was stored); the rest of the batch lands', async () => {
      await store().writePoints([{ measurement: m('conflict'), tags: {}, fields: { v: 1 }, ts: T0 }]);
      // The bad point second of five, so a store that splits batches into requests has good points on both sides.
      const batch: MetricPoint[] = [1, 2, 3, 4, 5].map((i) => ({
        measurement: m('conflict'),
        tags: {},
        fields: { v: i === 2 ? 'two' : i },
        ts: T0 + i,
      }));
      await expect(store().writePoints(batch)).rejects.toBeInstanceOf(StoreRejectedError);
      expect((await select(`SELECT "v" FROM ${quoteIdent(m('conflict'))}`))[0]?.values).toEqual([
        [T0, 1],
        [T0 + 1, 1],
        [T0 + 3, 3],
        [T0 + 4, 4],
        [T0 + 5, 5],
      ]);
    });

    it('rejects a malformed query as StoreRejectedError', async () => {
      await expect(select('SELECT FROM WHERE')).rejects.toBeInstanceOf(StoreRejectedError);
    });

    it('an empty write resolves and stores nothing', async () => {
      await expect(store().writePoints([])).resolves.toBeUndefined();
    });

    it('down: ping() false, writes and queries StoreUnavailableError; back up: nothing lost', async (ctx) => {
      if (!under.stop || !under.restart) {
        ctx.skip();
        return;
      }
      const kept: MetricPoint = { measurement: m('outage'), tags: {}, fields: { v: 1 }, ts: T0 };
      await store().writePoints([kept]);
      await under.stop();
      expect(await store().ping()).toBe(false);
      const retried: MetricPoint = { ...kept, fields: { v: 2 }, ts: T0 + 1 };
      await expect(store().writePoints([retried])).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(select(`SELECT * FROM ${quoteIdent(m('outage'))}`)).rejects.toMatchObject({
        code: 'E_STORE_UNAVAILABLE',
      });
      await under.restart();
      expect(await store().ping()).toBe(true);
      await store().writePoints([retried]); // the outbox's resend, once the store is back
      expect((await select(`SELECT "v" FROM ${quoteIdent(m('outage'))}`))[0]?.values).toEqual([
        [T0, 1],
        [T0 + 1, 2],
      ]);
    });
  });
}
