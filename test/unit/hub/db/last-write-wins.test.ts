import { describe, expect, it } from 'vitest';
import { type BatchOp, lastWriteWins } from '../../../../hub/db/hub-db.js';

describe('group commit: lastWriteWins', () => {
  it('R1: keeps only the last op per sublevel and key, in the order the kept ops were given', () => {
    const ops: BatchOp[] = [
      { type: 'put', sublevel: 'chain', key: 'dev-1', value: { n: 1 } },
      { type: 'put', sublevel: 'dedupe', key: 'dev-1:1', value: 'locker-event' },
      { type: 'put', sublevel: 'chain', key: 'dev-2', value: { n: 1 } },
      { type: 'put', sublevel: 'chain', key: 'dev-1', value: { n: 2 } },
      { type: 'put', sublevel: 'dedupe', key: 'dev-1:2', value: 'locker-event' },
      { type: 'put', sublevel: 'meta', key: 'dev-1', value: 'other sublevel, same key' },
      { type: 'put', sublevel: 'outbox', key: 'a', value: 'x' },
      { type: 'del', sublevel: 'outbox', key: 'a' },
    ];
    expect(lastWriteWins(ops)).toEqual([
      { type: 'put', sublevel: 'dedupe', key: 'dev-1:1', value: 'locker-event' },
      { type: 'put', sublevel: 'chain', key: 'dev-2', value: { n: 1 } },
      { type: 'put', sublevel: 'chain', key: 'dev-1', value: { n: 2 } },
      { type: 'put', sublevel: 'dedupe', key: 'dev-1:2', value: 'locker-event' },
      { type: 'put', sublevel: 'meta', key: 'dev-1', value: 'other sublevel, same key' },
      { type: 'del', sublevel: 'outbox', key: 'a' },
    ]);
  });
});
