/**
 * What a visitor can do to a simulated classroom, and the pin levels each action drives on the emulated Uno. Pure:
 * the server validates a request body into an Action and carries out the PinWrites; the device program then sees the
 * contacts change exactly as it would on a real board (pin-map.ts: every input is a contact to GND on a pulled-up pin,
 * so LOW = contact closed).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { BoardPins, PinName } from '../../firmware/board/pin-map.js';
import { checkSchema } from '../../schemas/validate.js';

export const ActionSchema = Type.Union(
  [
    Type.Object(
      { action: Type.Literal('press'), hold: Type.Union([Type.Literal('short'), Type.Literal('long')]) },
      { additionalProperties: false },
    ),
    Type.Object({ action: Type.Literal('door'), open: Type.Boolean() }, { additionalProperties: false }),
    Type.Object({ action: Type.Literal('key'), on: Type.Boolean() }, { additionalProperties: false }),
    Type.Object(
      {
        action: Type.Literal('slot'),
        slot: Type.Integer({ minimum: 0, maximum: 15 }),
        phone: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
  ],
  { $id: 'simulator-action' },
);
export type Action = Static<typeof ActionSchema>;

/** A request the simulator refuses; `status` is the HTTP status it answers with. */
export class SimulatorInputError extends Error {
  constructor(
    readonly code:
      | 'E_BAD_ACTION'
      | 'E_BAD_JSON'
      | 'E_TOO_LARGE'
      | 'E_CONTENT_TYPE'
      | 'E_NO_SUCH_SLOT'
      | 'E_NO_SUCH_CLASSROOM'
      | 'E_BUTTON_HELD'
      | 'E_BAD_HOST'
      | 'E_CROSS_SITE'
      | 'E_NOT_FOUND'
      | 'E_METHOD',
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'SimulatorInputError';
  }
}

/** Validates a parsed JSON body against the schema and the classroom's own hardware (its number of slots). */
export function parseAction(body: unknown, slotCount: number): Action {
  const result = checkSchema('simulator-action', ActionSchema, body);
  if (!result.ok) {
    // A union's errors list every branch; name the action if it is one we know, so the message points at its field.
    throw new SimulatorInputError('E_BAD_ACTION', describeProblem(body, result.error.problems), 400);
  }
  const action = result.value;
  if (action.action === 'slot' && action.slot >= slotCount) {
    throw new SimulatorInputError(
      'E_NO_SUCH_SLOT',
      `slot ${action.slot} does not exist: this locker has slots 0 to ${slotCount - 1}`,
      400,
    );
  }
  return action;
}

const SHAPES: Record<string, string> = {
  press: '{"action":"press","hold":"short"|"long"}',
  door: '{"action":"door","open":true|false}',
  key: '{"action":"key","on":true|false}',
  slot: '{"action":"slot","slot":<number>,"phone":true|false}',
};

function describeProblem(body: unknown, problems: readonly string[]): string {
  const name =
    typeof body === 'object' && body !== null && 'action' in body
      ? (body as { action: unknown }).action
      : undefined;
  const shape = typeof name === 'string' ? SHAPES[name] : undefined;
  if (shape) return `a ${name} action is ${shape}`;
  const first = problems[0] ?? '/: is invalid';
  return `unknown action (expected one of ${Object.keys(SHAPES).join(', ')}): ${first}`;
}

/** Drive `pin` to `high` once `afterMs` have passed since the action. */
export interface PinWrite {
  readonly pin: PinName;
  readonly high: boolean;
  readonly afterMs: number;
}

/** A short press is a pupil's tap, well above the device's 30 ms debounce and below its long-press threshold. */
export const SHORT_PRESS_MS = 300;
/** A long press is held this much past the device's long-press threshold, so it reads as urgent with margin. */
export const LONG_PRESS_MARGIN_MS = 700;

export function pinWrites(action: Action, pins: BoardPins, longPressMs: number): PinWrite[] {
  switch (action.action) {
    case 'press': {
      const holdMs = action.hold === 'short' ? SHORT_PRESS_MS : longPressMs + LONG_PRESS_MARGIN_MS;
      return [
        { pin: pins.button, high: false, afterMs: 0 },
        { pin: pins.button, high: true, afterMs: holdMs },
      ];
    }
    // The reed switch is closed (LOW) while the door is shut.
    case 'door':
      return [{ pin: pins.door, high: action.open, afterMs: 0 }];
    // The key switch is closed (LOW) while turned on.
    case 'key':
      return [{ pin: pins.key, high: !action.on, afterMs: 0 }];
    // A slot's microswitch is closed (LOW) while a phone is in it.
    case 'slot': {
      const pin = pins.slots[action.slot];
      if (pin === undefined) throw new SimulatorInputError('E_NO_SUCH_SLOT', `no slot ${action.slot}`, 400);
      return [{ pin, high: !action.phone, afterMs: 0 }];
    }
  }
}
