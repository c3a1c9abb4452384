/**
 * Worker-thread entry for an emulated Uno in realtime mode (started by EmulatedUno): the chip runs here, paced to the
 * host clock, so the thread that runs johnny-five and the device program is as free as it is on a Pi, where the Uno
 * is a chip of its own. Only Firmata's serial bytes and pin levels cross between the threads:
 *   in   {t:'start'} | {t:'rx', bytes} | {t:'pin', pin, high} | {t:'analog', channel, volts}
 *   out  {t:'tx', bytes} (transferred)
 *   shared memory: float64 emulated cycle count, then the first OBSERVED_REGISTER_BYTES of the data space, copied
 *   every 0.25 ms of emulated time, for the main thread's synchronous readPin/pwmDuty.
 * An exception here ends the worker; the main thread sees 'error'/'exit' and closes the serial stream.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { PinName } from './pin-map.js';
import { CYCLES_PER_MS, cyclesDue, OBSERVED_REGISTER_BYTES, type Pace, UnoCore } from './uno-core.js';

export interface UnoWorkerData {
  /** The flash image, parsed by the main thread so that a bad image fails where the board is made. */
  image: Uint8Array;
  releasedPins: readonly PinName[];
  speed: number;
  fastBoot: boolean;
  /** 8 bytes of cycle count, then OBSERVED_REGISTER_BYTES of registers. */
  mirror: SharedArrayBuffer;
}

export type UnoWorkerMessage =
  | { t: 'start' }
  | { t: 'rx'; bytes: Uint8Array }
  | { t: 'pin'; pin: PinName; high: boolean }
  | { t: 'analog'; channel: number; volts: number };

/** Most emulated time one slice runs before messages get a turn (about 0.5 ms of host time at real speed). */
const SLICE_CYCLES = 2 * CYCLES_PER_MS;

const port = parentPort;
if (!port) throw new Error('uno-worker.ts runs as a worker thread (see EmulatedUno)');
const data = workerData as UnoWorkerData;
const mirroredCycles = new Float64Array(data.mirror, 0, 1);
const mirroredRegisters = new Uint8Array(data.mirror, 8, OBSERVED_REGISTER_BYTES);

let serialSeen = false;
let booting = data.fastBoot;
let started = false;
const pace: Pace = { wallStart: 0, cycleStart: 0 };
let timer: NodeJS.Timeout | undefined;
let immediate: NodeJS.Immediate | undefined;

const core = new UnoCore(
  data.image,
  data.releasedPins,
  (bytes) => {
    serialSeen = true;
    port.postMessage({ t: 'tx', bytes }, [bytes.buffer]);
  },
  () => mirror(),
);

function mirror(): void {
  mirroredRegisters.set(core.cpu.data.subarray(0, OBSERVED_REGISTER_BYTES));
  mirroredCycles[0] = core.cycles;
}
mirror();

/** Runs the CPU up to the host clock (times speed), one slice at a time. */
function runSlice(): void {
  timer = undefined;
  immediate = undefined;
  if (booting && serialSeen) {
    // The firmware has spoken: boot is over, pace from here.
    booting = false;
    pace.wallStart = performance.now();
    pace.cycleStart = core.cycles;
  }
  const flatOut = booting || !Number.isFinite(data.speed);
  const due = flatOut ? SLICE_CYCLES * 2 : cyclesDue(pace, performance.now(), core.cycles, data.speed);
  if (due > 0) core.run(Math.min(due, SLICE_CYCLES));
  // Behind: carry on after messages get a turn. Caught up: sleep a couple of milliseconds (a message from the host wakes it sooner).
  if (due > SLICE_CYCLES) immediate = setImmediate(runSlice);
  else timer = setTimeout(runSlice, 2);
}

/** An input from the host: catch the CPU up to now at once rather than at the end of its sleep. */
function wake(): void {
  if (!started || immediate) return;
  clearTimeout(timer);
  timer = undefined;
  immediate = setImmediate(runSlice);
}

port.on('message', (m: UnoWorkerMessage) => {
  switch (m.t) {
    case 'start':
      if (started) return;
      started = true;
      pace.wallStart = performance.now();
      pace.cycleStart = core.cycles;
      immediate = setImmediate(runSlice);
      return;
    case 'rx':
      core.receive(m.bytes);
      wake();
      return;
    case 'pin':
      core.setPin(m.pin, m.high);
      mirror();
      wake();
      return;
    case 'analog':
      core.setAnalog(m.channel, m.volts);
      return;
  }
});
