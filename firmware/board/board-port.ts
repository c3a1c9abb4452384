/**
 * The device program's view of the hardware: inputs as events, outputs as desired states.
 * Only firmware/board/johnny-five-board.ts imports johnny-five; everything else sees this port.
 */
import type { SignageMode } from '../../schemas/messages.js';

export type InputEvent =
  | { kind: 'door'; open: boolean }
  | { kind: 'key'; on: boolean }
  | { kind: 'slot'; index: number; occupied: boolean }
  /**
   * heldMs, on a release where the board can tell: how long the button was down by the board's own clock (a lower
   * bound), which a stall of this program cannot shorten. See press-ticks.ts.
   */
  | { kind: 'button'; pressed: boolean; heldMs?: number };

/** What the report button's light says to the pupil (R1). */
/** 'fault': the device cannot store reports (its journal's storage fails); what the hub has is still 'confirmed'. */
export type ButtonLight = 'off' | 'ready' | 'sending' | 'confirmed' | 'stored' | 'fault';

export interface Outputs {
  locked: boolean;
  signage: SignageMode;
  buttonLight: ButtonLight;
  /** Short confirmation chirp on the optional piezo. */
  chirp?: 'confirmed' | 'stored' | 'none';
}

/**
 * The connection to the board itself, apart from its inputs: 'lost' when the transport closed or the board stopped
 * answering (USB cable pulled, Arduino reset). A lost port is finished: the device closes it and opens a new one
 * (firmware/device.ts does, through its `reopenBoard` option). 'connected' is told once, when the board is ready.
 */
export type BoardStatus = 'connected' | 'lost';

export interface BoardPort {
  /** Resolves when the board is ready and the current input levels have been reported once. */
  ready(): Promise<void>;
  onInput(listener: (event: InputEvent) => void): void;
  /** Optional: a backend that cannot notice losing its board (GPIO on the Pi itself) need not implement it. */
  onStatus?(listener: (status: BoardStatus) => void): void;
  apply(outputs: Outputs): void;
  close(): Promise<void>;
}
