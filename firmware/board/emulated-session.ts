/** One emulated classroom board, ready to use: for end-to-end tests and the demo (several can share a process). */

import type { BoardLog } from '../../shared/log.js';
import type { BoardPort } from './board-port.js';
import type { EmulatedUno, EmulatedUnoOptions } from './emulated-uno.js';
import { openBoard } from './open-board.js';
import { type BoardPins, DEFAULT_UNO_PINS } from './pin-map.js';

export interface EmulatedSession {
  port: BoardPort;
  emulator: EmulatedUno;
  /** Closes the port, johnny-five's hold on it and the emulator. Idempotent. */
  close(): Promise<void>;
}

export interface EmulatedSessionOptions {
  id?: string;
  log?: BoardLog;
  emulator?: Omit<EmulatedUnoOptions, 'log'>;
}

/**
 * Boots an emulated Uno running real Firmata, opens johnny-five on it and resolves once the board is ready and has
 * reported its inputs. Listeners added after that are told the current levels first (see JohnnyFiveBoard.onInput).
 */
export async function startEmulatedBoard(
  pins: BoardPins = DEFAULT_UNO_PINS,
  options: EmulatedSessionOptions = {},
): Promise<EmulatedSession> {
  const { port, emulator } = await openBoard({ kind: 'emulated-uno' }, pins, options.log, {
    id: options.id,
    emulator: options.emulator,
  });
  if (!emulator) throw new Error('openBoard did not return an emulator for emulated-uno');
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= port.close();
    return closing;
  };
  try {
    await port.ready();
  } catch (error) {
    await close();
    throw error;
  }
  return { port, emulator, close };
}
