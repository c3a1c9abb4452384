/**
 * aedes-persistence's abstract test suite, unmodified, against hub/broker/level-persistence.ts on a real LevelDB (a
 * fresh one per test). A node:test file, as the suite is written for node:test (it uses t.assert, t.plan,
 * t.diagnostic); test/integration/hub/broker/level-persistence.test.ts runs it under `node --import tsx --test` and checks
 * the result. Run twice: on the persistence itself, as aedes 1.x calls it (async), and through aedes-persistence's
 * callback layer (the suite's default mode).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Level } from 'level';
import { LevelPersistence } from '../../hub/broker/level-persistence.js';

const require = createRequire(import.meta.url);
type Suite = (options: {
  test: typeof test;
  persistence: () => unknown;
  testAsync?: boolean;
  waitForReady?: boolean;
}) => void;
const abstractPersistence = require('aedes-persistence/abstract.js') as Suite;
const { CallBackPersistence } = require('aedes-persistence/callBackPersistence.js') as {
  CallBackPersistence: new (factory: (db: unknown) => unknown, db: unknown) => unknown;
};

const root = mkdtempSync(join(tmpdir(), 'aedes-persistence-suite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let made = 0;
function freshDb(): Level<string, unknown> {
  made += 1;
  return new Level<string, unknown>(join(root, String(made)));
}

abstractPersistence({ test, persistence: () => new LevelPersistence(freshDb()), testAsync: true });
abstractPersistence({
  test,
  persistence: () =>
    new CallBackPersistence((db) => new LevelPersistence(db as Level<string, unknown>), freshDb()),
  waitForReady: true,
});
