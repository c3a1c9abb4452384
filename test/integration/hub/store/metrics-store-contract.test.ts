/**
 * The shared MetricsStore contract (test/support/metrics-store-contract.ts) against the real InfluxStore on a private
 * influxd (Debian's 1.6). Twice: with the default 5000-line requests, and with 2-line requests so every batch crosses
 * request boundaries (a bad line in one request must not lose the good lines of the others). There is no other
 * MetricsStore implementation in the project; the outbox and recorder tests use the real one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InfluxdHandle, startInfluxd } from '../../../../hub/influx/influxd-process.js';
import { InfluxStore, type InfluxStoreOptions } from '../../../../hub/store/influx-store.js';
import {
  describeMetricsStoreContract,
  type StoreUnderTest,
} from '../../../support/metrics-store-contract.js';

const DB = 'phones_away_contract';

async function influxUnderTest(options: Partial<InfluxStoreOptions> = {}): Promise<StoreUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'pa-contract-'));
  const start = () => startInfluxd({ dataDir: join(dir, 'influx'), database: DB });
  let influxd: InfluxdHandle = await start();
  const open = () => new InfluxStore({ url: influxd.url, database: DB, ...options });
  let store = open();
  return {
    get store() {
      return store;
    },
    async stop() {
      await influxd.stop();
    },
    async restart() {
      influxd = await start(); // same data dir, new ports
      store = open();
    },
    async dispose() {
      await influxd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeMetricsStoreContract('InfluxStore on a private influxd', () => influxUnderTest());
describeMetricsStoreContract('InfluxStore, 2-line write requests', () =>
  influxUnderTest({ maxLinesPerWrite: 2 }),
);
