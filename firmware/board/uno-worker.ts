/**
 * Worker-thread entry for an emulated Uno in realtime mode (started by EmulatedUno): the chip runs here, paced to the
 * host clock, so the thread that runs johnny-five and the device program is as free as it is on a Pi, where the Uno
 * is a chip of its own. Only Firmata's serial bytes and pin levels cross between the threads:
 *   in   {t:'start'} | {t:'rx', bytes} | {t:'pin', pin, high, at} | {t:'analog', channel, volts}
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
  /** `at`: when the level changed, epoch ms (performance.timeOrigin + performance.now() on the host's thread). */
  | { t: 'pin'; pin: PinName; high: boolean; at: number }
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

/**
 * Pin changes waiting for the emulated clock to reach the moment they happened on the host. Messages reach this
 * thread in bursts whenever it was busy or descheduled; applied on arrival, a 120 ms press and its release that
 * arrive together would leave the pin low for no emulated time at all, and the firmware would never see it. Applied
 * at their own time, the chip sees every input as long as it lasted. In cycle order (a change is never applied
 * before one sent earlier).
 */
const pendingPins: { pin: PinName; high: boolean; cycle: number }[] = [];

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
  if (due > 0) runTo(core.cycles + Math.min(due, SLICE_CYCLES));
  else applyPinsDue();
  // Behind: carry on after messages get a turn. Caught up: sleep a couple of milliseconds (a message from the host wakes it sooner).
  if (due > SLICE_CYCLES) immediate = setImmediate(runSlice);
  else timer = setTimeout(runSlice, 2);
}

/** Runs the CPU to `end`, stopping on the way wherever a pending pin change falls due. */
function runTo(end: number): void {
  applyPinsDue();
  while (core.cycles < end) {
    const next = pendingPins[0]?.cycle ?? Number.POSITIVE_INFINITY;
    core.run(Math.min(end, next) - core.cycles);
    applyPinsDue();
  }
}

function applyPinsDue(): void {
  let applied = false;
  while (pendingPins[0] && pendingPins[0].cycle <= core.cycles) {
    const change = pendingPins.shift();
    if (change) core.setPin(change.pin, change.high);
    applied = true;
  }
  if (applied) mirror();
}

/**
 * The emulated cycle at which a change the host made at `at` (epoch ms) falls: the pacing maps host time to cycles.
 * Before pacing starts (boot, flat out), and never earlier than now or than a change sent before it. (A chip more
 * than MAX_LAG_CYCLES behind slips its pacing: a press whose edges straddle a slip is shortened by it.)
 */
function cycleFor(at: number): number {
  const last = pendingPins.at(-1)?.cycle ?? 0;
  const paced = started && !booting && Number.isFinite(data.speed);
  const hostNow = at - performance.timeOrigin;
  const cycle = paced ? pace.cycleStart + (hostNow - pace.wallStart) * CYCLES_PER_MS * data.speed : 0;
  return Math.max(core.cycles, last, Math.ceil(cycle));
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
      pendingPins.push({ pin: m.pin, high: m.high, cycle: cycleFor(m.at) });
      applyPinsDue();
      wake();
      return;
    case 'analog':
      core.setAnalog(m.channel, m.volts);
      return;
  }
});
