/**
 * CPU time of other processes, and of one thread of theirs, from /proc (Linux): what the durable scenario uses to show
 * where a peer's rate comes from. Each process is measured from outside, so every peer (the hub, Mosquitto, aedes
 * alone, the load generators) is measured the same way, with nothing added to it. Resolution: one clock tick (10 ms);
 * a round takes seconds.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime: 100 on every Linux the project targets (getconf CLK_TCK). */
const TICKS_PER_SECOND = 100;

/** User plus system CPU time, in µs, of a process (all its threads) or, with `thread`, of that one thread. */
export function cpuMicros(pid: number, thread?: number): number {
  const path = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const stat = readFileSync(path, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: the fields after it start after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, so 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / TICKS_PER_SECOND;
}

export interface CpuTarget {
  name: string;
  pid: number;
  /** A thread of that process to measure on its own (a Node.js process's main thread has the process's pid). */
  thread?: number;
}

/** CPU µs per event of each target over one measured stretch: start() before, perEvent(n) after. */
export class CpuMeter {
  private readonly started = new Map<string, number>();

  constructor(private readonly targets: CpuTarget[]) {}

  start(): void {
    for (const t of this.targets) this.started.set(t.name, cpuMicros(t.pid, t.thread));
  }

  perEvent(events: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.targets) {
      out[t.name] = (cpuMicros(t.pid, t.thread) - (this.started.get(t.name) ?? 0)) / Math.max(1, events);
    }
    return out;
  }
}
