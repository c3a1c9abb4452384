/** The supervisor's pure decisions (D5): which write failures mean influxd's disk failed, and the restart waits. */
import { describe, expect, it } from 'vitest';
import { isStorageFault, restartDelay } from '../../../../hub/influx/influxd-supervisor.js';
import { StoreUnavailableError } from '../../../../hub/store/metrics-store.js';

describe('influxd supervision', () => {
  it("knows influxd's own disk failures from other write failures", () => {
    // What influxd 1.6 answered on a full tmpfs, before and after the space came back (the test school's run).
    const full = new StoreUnavailableError(
      'write to http://127.0.0.1:34681: HTTP 500 engine: error writing WAL entry: write /d/wal/db/autogen/1/_00001.wal: no space left on device',
      500,
    );
    expect(isStorageFault(full)).toBe(true);
    expect(isStorageFault(new Error('HTTP 500 open /d/wal/x: read-only file system'))).toBe(true);
    expect(isStorageFault(new Error('HTTP 500 write /d/data/x.tsm: input/output error'))).toBe(true);
    // Down, hung or refusing input: a restart would not help, or the exit watcher already handles it.
    expect(isStorageFault(new StoreUnavailableError('write to http://127.0.0.1:1: ECONNREFUSED'))).toBe(
      false,
    );
    expect(isStorageFault(new StoreUnavailableError('write: request timed out'))).toBe(false);
    expect(isStorageFault(new Error('HTTP 400 partial write: field type conflict'))).toBe(false);
    expect(isStorageFault('no space left on device')).toBe(true);
  });

  it('waits the base first, doubles per failed start, and stops growing at the cap', () => {
    expect([0, 1, 2, 3, 6, 7, 100].map((n) => restartDelay(n, 1_000, 60_000))).toEqual([
      1_000, 2_000, 4_000, 8_000, 60_000, 60_000, 60_000,
    ]);
  });
});
