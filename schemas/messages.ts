/**
 * MQTT message schemas: the single source of truth for what devices and the hub say to each other.
 * Types are derived from these with Static<>, JSON Schema files in schemas/json are generated from them.
 */
import { type Static, Type } from '@sinclair/typebox';
import {
  ChainHash,
  ClockTime,
  EpochMs,
  EventId,
  IsoDate,
  SchemaVersion,
  Sequence,
  Slug,
  StringEnum,
} from './common.js';

export const SIGNAGE_MODES = [
  'phones-away',
  'phones-allowed',
  'staff-phones-only',
  'authorised-use',
  'fault',
  'off',
] as const;
export const SignageMode = StringEnum(SIGNAGE_MODES, {
  description:
    "What the room signage tells people (P1, P3, P6). 'staff-phones-only': staff may use phones here now, pupils " +
    'may not (P3, P4). fault also covers offline-too-long.',
});
export type SignageMode = Static<typeof SignageMode>;

export const LOCKER_MODES = ['lesson', 'day-storage', 'open'] as const;
/** lesson: classroom locker follows the timetable (P1); day-storage: office locker, arrival to home time (P2). */
export const LockerMode = StringEnum(LOCKER_MODES);
export type LockerMode = Static<typeof LockerMode>;

/** Fields every device event carries: exactly-once delivery (id, seq) and tamper evidence (prev). */
const EventEnvelope = {
  v: SchemaVersion,
  id: EventId,
  seq: Sequence,
  ts: EpochMs,
  prev: Type.Optional(ChainHash),
  clockSynced: Type.Optional(
    Type.Boolean({
      description:
        'Whether the device clock was NTP-synchronised when ts was read (a Pi has no RTC). Absent: unknown. ' +
        'The hub orders by its own receive time either way.',
    }),
  ),
};

/** Retained: the locker as it is now. Counts phones, never owners (D1). */
export const LockerState = Type.Object(
  {
    v: SchemaVersion,
    ts: EpochMs,
    locked: Type.Boolean(),
    doorOpen: Type.Boolean(),
    phones: Type.Integer({ minimum: 0, maximum: 64 }),
    slots: Type.Integer({ minimum: 0, maximum: 64 }),
    keyOn: Type.Boolean({ description: 'Staff key switch turned to unlock.' }),
    mode: LockerMode,
  },
  { $id: 'locker-state', additionalProperties: false, title: 'LockerState' },
);
export type LockerState = Static<typeof LockerState>;

export const LOCKER_EVENT_KINDS = [
  'locked',
  'unlocked',
  'door-opened',
  'door-closed',
  'phones-changed',
  'key-on',
  'key-off',
  'tamper',
] as const;
export const TAMPER_REASONS = [
  'door-opened-while-locked',
  'button-held',
  'unplugged-in-lesson',
  'forced',
] as const;

/** A locker happening. tamper events are R7 evidence. */
export const LockerEvent = Type.Object(
  {
    ...EventEnvelope,
    kind: StringEnum(LOCKER_EVENT_KINDS),
    phones: Type.Integer({ minimum: 0, maximum: 64 }),
    reason: Type.Optional(StringEnum(TAMPER_REASONS)),
  },
  { $id: 'locker-event', additionalProperties: false, title: 'LockerEvent' },
);
export type LockerEvent = Static<typeof LockerEvent>;

/** Retained: what the signage shows now, and why. */
export const SignageState = Type.Object(
  {
    v: SchemaVersion,
    ts: EpochMs,
    mode: SignageMode,
    source: StringEnum(['hub', 'offline-schedule', 'local-fault'] as const),
  },
  { $id: 'signage-state', additionalProperties: false, title: 'SignageState' },
);
export type SignageState = Static<typeof SignageState>;

/** A pupil pressed the report button (R1). Anonymous by construction: no field can hold who (D1). */
export const Report = Type.Object(
  {
    ...EventEnvelope,
    urgency: StringEnum(['normal', 'urgent'] as const),
    pressMs: Type.Integer({ minimum: 0, maximum: 600_000, description: 'How long the button was held.' }),
    queuedMs: Type.Integer({
      minimum: 0,
      maximum: 315_360_000_000, // ten years: bounded so hostile input cannot smuggle absurd numbers
      description: 'How long the device held this report before this send (outage evidence).',
    }),
  },
  { $id: 'report', additionalProperties: false, title: 'Report' },
);
export type Report = Static<typeof Report>;

/** Hub to device: the report is durably stored; the button light may show "received". */
export const ReportAck = Type.Object(
  {
    v: SchemaVersion,
    id: EventId,
    ref: Type.String({
      pattern: '^[A-Z2-9]{4,16}$',
      description: 'Incident reference staff can quote: 4 characters, longer once those are used up.',
    }),
    storedAt: EpochMs,
  },
  { $id: 'report-ack', additionalProperties: false, title: 'ReportAck' },
);
export type ReportAck = Static<typeof ReportAck>;

export const Heartbeat = Type.Object(
  {
    ...EventEnvelope,
    uptimeS: Type.Integer({ minimum: 0, maximum: 315_360_000 }),
    software: Type.String({
      pattern: '^[0-9A-Za-z.+-]{1,32}$',
      description: 'Device software version (S8).',
    }),
    queued: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      description: 'Reports and events waiting to be sent.',
    }),
    board: StringEnum(['emulated-uno', 'firmata-serial', 'raspi'] as const),
    boardConnected: Type.Optional(
      Type.Boolean({ description: 'false while the board (Arduino on USB) is lost; the device retries it.' }),
    ),
    journalFault: Type.Optional(
      Type.Boolean({
        description:
          'true while the device cannot write its journal (SD card full, read-only or failing): reports are held in ' +
          'memory and retried, but one raised offline would not survive a restart.',
      }),
    ),
  },
  { $id: 'heartbeat', additionalProperties: false, title: 'Heartbeat' },
);
export type Heartbeat = Static<typeof Heartbeat>;

/** Retained, also the MQTT last will: online/offline as the broker sees it. */
export const Availability = Type.Object(
  {
    v: SchemaVersion,
    ts: EpochMs,
    status: StringEnum(['online', 'offline'] as const),
  },
  { $id: 'availability', additionalProperties: false, title: 'Availability' },
);
export type Availability = Static<typeof Availability>;

export const ScheduleEntry = Type.Object(
  {
    start: ClockTime,
    end: ClockTime,
    signage: SignageMode,
    locked: Type.Boolean(),
    label: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type ScheduleEntry = Static<typeof ScheduleEntry>;

const CommandBase = { v: SchemaVersion, id: Type.String({ pattern: '^[A-Za-z0-9:_-]{1,64}$' }), ts: EpochMs };

/** Hub to device commands, on the device's own set/ topic. */
export const Command = Type.Union(
  [
    Type.Object(
      {
        ...CommandBase,
        kind: Type.Literal('lock'),
        locked: Type.Boolean(),
        reason: StringEnum(['timetable', 'staff', 'emergency-release', 'exemption'] as const),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { ...CommandBase, kind: Type.Literal('signage'), mode: SignageMode },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        ...CommandBase,
        kind: Type.Literal('update'),
        version: Type.String({ pattern: '^[0-9A-Za-z.+-]{1,32}$' }),
        size: Type.Integer({ minimum: 1, maximum: 1024 * 1024 * 1024 }),
        sha256: Type.String({
          pattern: '^[0-9a-f]{64}$',
          description: 'Of the whole bundle file as the hub serves it.',
        }),
        downgrade: Type.Boolean({
          description:
            'An admin chose to install an older version (audited at the hub); otherwise older is refused.',
        }),
      },
      {
        additionalProperties: false,
        description:
          'Fleet update offer (retained). The device fetches the bundle from the hub over HTTPS, verifies its ' +
          'Ed25519 signature and checksums itself, and installs it outside lessons whose locker is locked.',
      },
    ),
    Type.Object(
      {
        ...CommandBase,
        kind: Type.Literal('schedule'),
        date: IsoDate,
        timezone: Type.String({ maxLength: 64 }),
        entries: Type.Array(ScheduleEntry, { maxItems: 48 }),
        otherwise: SignageMode,
      },
      {
        additionalProperties: false,
        description: "The coming day's plan, so the device can enforce it offline.",
      },
    ),
  ],
  { $id: 'command', title: 'Command' },
);
export type Command = Static<typeof Command>;

export const UPDATE_STAGES = [
  'waiting',
  'downloading',
  'verifying',
  'restarting',
  'installed',
  'refused',
  'rolled-back',
] as const;
export const UpdateStage = StringEnum(UPDATE_STAGES);
export type UpdateStage = Static<typeof UpdateStage>;

/** Device to hub: how an update offer is going on this device. Not journaled: the next offer or restart resends it. */
export const UpdateProgress = Type.Object(
  {
    v: SchemaVersion,
    ts: EpochMs,
    offer: Type.String({ pattern: '^[A-Za-z0-9:_-]{1,64}$', description: 'The id of the update command.' }),
    version: Type.String({ pattern: '^[0-9A-Za-z.+-]{1,32}$', description: 'The version offered.' }),
    running: Type.String({ pattern: '^[0-9A-Za-z.+-]{1,32}$', description: 'The version running now.' }),
    stage: UpdateStage,
    reason: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { $id: 'update-progress', additionalProperties: false, title: 'UpdateProgress' },
);
export type UpdateProgress = Static<typeof UpdateProgress>;

export const messageSchemas = {
  'locker-state': LockerState,
  'locker-event': LockerEvent,
  'signage-state': SignageState,
  report: Report,
  'report-ack': ReportAck,
  heartbeat: Heartbeat,
  availability: Availability,
  command: Command,
  'update-progress': UpdateProgress,
} as const;

export { Slug };
