/**
 * Several simulated classrooms in one process, as the demo runs them: three emulated Unos, three johnny-five boards,
 * each seeing only its own inputs and driving only its own outputs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InputEvent } from '../../../firmware/board/board-port.js';
import { type EmulatedSession, startEmulatedBoard } from '../../../firmware/board/emulated-session.js';
import { DEFAULT_UNO_PINS } from '../../../firmware/board/pin-map.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pins = DEFAULT_UNO_PINS;

let sessions: EmulatedSession[] = [];
const events: InputEvent[][] = [[], [], []];

beforeAll(async () => {
  sessions = await Promise.all(
    // Each Uno's chip runs in its own worker thread; on a 2-core machine three full-speed ones may slip behind
    // real time without losing serial bytes. The demo may ask for less with `speed`.
    [0, 1, 2].map((i) => startEmulatedBoard(pins, { id: `room-${i}` })),
  );
  sessions.forEach((s, i) => {
    s.port.onInput((event) => events[i]?.push(event));
  });
  await sleep(0); // the current levels replayed to these late listeners
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
});

describe('three emulated boards in one process', () => {
  it('all boot', () => {
    expect(sessions).toHaveLength(3);
    for (const list of events) expect(list).toContainEqual({ kind: 'door', open: true });
  });

  it('an input on one board reaches only that board', async () => {
    const before = events.map((list) => list.length);
    sessions[1]?.emulator.setPin(pins.door, false);
    for (let t = 0; t < 2000 && !events[1]?.slice(before[1]).length; t += 20) await sleep(20);
    await sleep(100);
    expect(events[1]?.slice(before[1])).toEqual([{ kind: 'door', open: false }]);
    expect(events[0]).toHaveLength(before[0] ?? 0);
    expect(events[2]).toHaveLength(before[2] ?? 0);
  });

  it('outputs applied to one board appear only on that board', async () => {
    sessions[2]?.port.apply({ locked: true, signage: 'phones-away', buttonLight: 'ready' });
    // Each output is its own Firmata message: wait until the last of them has reached board 2.
    const shown = () =>
      sessions[2]?.emulator.readPin(pins.lock) && sessions[2]?.emulator.pwmDuty(pins.signage.red) === 1;
    for (let t = 0; t < 2000 && !shown(); t += 20) await sleep(20);
    expect(sessions.map((s) => s.emulator.readPin(pins.lock))).toEqual([false, false, true]);
    expect(sessions.map((s) => s.emulator.pwmDuty(pins.signage.red))).toEqual([0, 0, 1]);
  });
});
