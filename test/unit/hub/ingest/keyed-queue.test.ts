/** Ingest's per-device queue (R1: a resend racing its original is seen as a duplicate only if checks never overlap). */
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../../../hub/ingest/keyed-queue.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedQueue', () => {
  it('runs one key in arrival order, one at a time, and other keys alongside it', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const task = (name: string, ms: number) => async () => {
      running += 1;
      most = Math.max(most, running);
      log.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.push(`${name} end`);
      running -= 1;
    };
    await Promise.all([
      queue.run('a', task('a1', 20)),
      queue.run('a', task('a2', 1)),
      queue.run('a', task('a3', 1)),
      queue.run('b', task('b1', 5)),
    ]);
    const a = log.filter((line) => line.startsWith('a'));
    expect(a).toEqual(['a1 start', 'a1 end', 'a2 start', 'a2 end', 'a3 start', 'a3 end']);
    // b ran while a1 did: keys do not wait for each other.
    expect(log.indexOf('b1 end')).toBeLessThan(log.indexOf('a1 end'));
    expect(most).toBe(2);
  });

  it('a failed task, thrown at once or later, rejects its own run and never blocks the key', async () => {
    const queue = new KeyedQueue();
    const thrown = queue.run('a', (() => {
      throw new Error('at once');
    }) as () => Promise<void>);
    const rejected = queue.run('a', async () => {
      throw new Error('later');
    });
    let ran = false;
    const after = queue.run('a', async () => {
      ran = true;
    });
    await expect(thrown).rejects.toThrow('at once');
    await expect(rejected).rejects.toThrow('later');
    await after;
    expect(ran).toBe(true);
  });

  it('forgets a key once its queue is empty (no map entry per device ever seen)', async () => {
    const queue = new KeyedQueue();
    await Promise.all(Array.from({ length: 100 }, (_, i) => queue.run(`device-${i}`, async () => {})));
    await tick();
    expect((queue as unknown as { tails: Map<string, unknown> }).tails.size).toBe(0);
  });
});
