/**
 * The HTTP API's answers: the `data` of every JSON route, as TypeBox schemas. Each route names its schema in its
 * config (`response`), so /api/openapi.json documents it; the dashboard's types are these schemas' Static<> types
 * (dashboard/src/types.ts), so nothing the dashboard reads is typed twice. Pure TypeBox, no Node code: the dashboard
 * imports types from here, and the integration test validates the hub's real answers against the published schemas.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { IsoDate, StringEnum } from './common.js';
import {
  Period,
  Permission,
  Policy,
  Role,
  Room,
  SchoolModel,
  TimeKind,
  Timetable,
  Zone,
  ZoneKind,
} from './config.js';
import { LockerMode, LockerState, SignageMode, SignageState, UPDATE_STAGES } from './messages.js';

const Opt = Type.Optional;
const Ms = Type.Number({ description: 'Milliseconds since the Unix epoch.' });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A route that answers `{status: "ok"}` with no data. */
export const NoData = Type.Null({ description: 'No data: the answer is `{status: "ok"}`.' });

export const STAFF_ROLE_NAMES = [
  'office',
  'teacher',
  'coordinator',
  'dsl',
  'head',
  'admin',
  'governor',
] as const;
export const StaffRoleName = StringEnum(STAFF_ROLE_NAMES);

// Sign-in and session

export const SessionInfo = Type.Object({
  username: Type.String(),
  roles: Type.Array(StaffRoleName),
  csrf: Type.String(),
  /** S2: the server's idle limit; the client warns before it and locks at it. */
  idleLimitMs: Opt(Type.Number()),
});
export type SessionInfo = Static<typeof SessionInfo>;

/** What POST /api/login answers before a session exists (S3: a second factor for incident and policy roles). */
export const LoginStep = Type.Union([
  SessionInfo,
  Type.Object({ needsTotp: Type.Literal(true), loginToken: Type.String() }),
  Type.Object({
    needsTotpEnrolment: Type.Literal(true),
    loginToken: Type.String(),
    secret: Type.String(),
    otpauthUri: Type.String(),
  }),
  Type.Object({ needsNewPassword: Type.Literal(true), loginToken: Type.String() }),
]);
export type LoginStep = Static<typeof LoginStep>;

export const SignedOut = Type.Object({ signedOut: Type.Literal(true) });

// Incidents (R3–R6)

export const INCIDENT_STATUSES = ['reported', 'acknowledged', 'action-noted', 'closed'] as const;
export const ROUTE_TARGETS = ['coordinator', 'dsl', 'head', 'governor'] as const;
export const IncidentStatus = StringEnum(INCIDENT_STATUSES);

export const IncidentSummary = Type.Object({
  id: Type.String(),
  ref: Type.String(),
  kind: StringEnum(['report', 'tamper'] as const),
  room: Type.String(),
  device: Type.String(),
  urgency: StringEnum(['normal', 'urgent'] as const),
  reportedAt: Ms,
  receivedAt: Ms,
  status: IncidentStatus,
  routeTo: Opt(StringEnum(ROUTE_TARGETS)),
  category: Opt(Type.String()),
  escalatedAt: Opt(Ms),
});
export type IncidentSummary = Static<typeof IncidentSummary>;

export const Referral = Type.Object({
  agency: StringEnum(['police', 'ceop', 'iwf', 'lado', 'childrens-social-care'] as const),
  date: IsoDate,
  reference: Opt(Type.String()),
});

export const IncidentStep = Type.Object({
  at: Ms,
  by: Type.String({ description: '`device:<id>`, `user:<username>` or `system:<part>`.' }),
  action: StringEnum([
    'reported',
    'acknowledged',
    'categorised',
    'action-noted',
    'escalated',
    'routed',
    'closed',
  ] as const),
  note: Opt(Type.String()),
  referral: Opt(Referral),
  outcome: Opt(Type.String()),
  category: Opt(Type.String()),
  routeTo: Opt(StringEnum(ROUTE_TARGETS)),
});
export type IncidentStep = Static<typeof IncidentStep>;

export const Incident = Type.Composite([
  IncidentSummary,
  Type.Object({
    site: Type.String(),
    eventId: Type.String(),
    tamperReason: Opt(Type.String()),
    steps: Type.Array(IncidentStep),
    flood: Opt(Type.Object({ reports: Type.Integer(), lastAt: Ms })),
  }),
]);
export type Incident = Static<typeof Incident>;

/** GET /api/incidents/:id: the incident with its chronology (`steps`, oldest first). */
export const IncidentDetail = Type.Composite([Incident, Type.Object({ ageMs: Type.Number() })]);
export type IncidentDetail = Static<typeof IncidentDetail>;

/** What a reader with 'exists' access is shown of a report: that it is waiting, and since when. */
export const IncidentNotice = Type.Object({
  id: Type.String(),
  status: IncidentStatus,
  receivedAt: Ms,
  restricted: Type.Literal(true),
});
export type IncidentNotice = Static<typeof IncidentNotice>;

const Aged = Type.Object({ ageMs: Type.Number() });
/** GET /api/incidents: summaries; for the head, a report nobody has read yet shows only that it is waiting. */
export const Inbox = Type.Object({
  items: Type.Array(
    Type.Union([Type.Composite([IncidentSummary, Aged]), Type.Composite([IncidentNotice, Aged])]),
  ),
  unacknowledged: Type.Integer(),
  oldestUnacknowledgedAgeMs: Nullable(Type.Number()),
});
export type Inbox = Static<typeof Inbox>;

export const CategoryRow = Type.Object({
  category: Type.String(),
  count: Type.Integer(),
  acknowledged: Type.Integer(),
  medianAckMs: Nullable(Type.Number()),
  longestAckMs: Nullable(Type.Number()),
});

/** GET /api/incidents/stats and /api/evidence/incidents: figures only, never content (R5). */
export const IncidentStatsView = Type.Object({
  from: IsoDate,
  to: IsoDate,
  total: Type.Integer(),
  byKind: Type.Object({ report: Type.Integer(), tamper: Type.Integer() }),
  byCategory: Type.Array(CategoryRow),
  acknowledge: Type.Object({
    count: Type.Integer(),
    medianMs: Nullable(Type.Number()),
    maxMs: Nullable(Type.Number()),
  }),
});
export type IncidentStatsView = Static<typeof IncidentStatsView>;

/** GET /api/notifications/failed: notices that could not be delivered, without any report content. */
export const FailedNotice = Type.Object({
  id: Type.String(),
  channel: StringEnum(['email', 'webhook'] as const),
  event: Type.String(),
  ref: Type.String(),
  kind: Type.String(),
  room: Type.String(),
  at: Type.String({ description: 'ISO 8601 of the report.' }),
  attempts: Type.Integer(),
  lastError: Type.String(),
});
export type FailedNotice = Static<typeof FailedNotice>;

// Compliance (D5)

export const COMPLIANCE_LEVELS = ['lesson', 'day', 'week', 'term'] as const;
/**
 * One InfluxDB row of compliance_<level>, keyed by column: the fields the compliance recorder writes (lessonPoint,
 * rollUpPoint) and the tags (room, device, period, term).
 */
export const ComplianceRow = Type.Object(
  {
    time: Type.Union([Type.Number(), Type.String()]),
    room: Type.String(),
    device: Opt(Type.String()),
    period: Opt(Type.String()),
    term: Opt(Type.String()),
    date: Opt(Type.String()),
    lessons: Opt(Type.Number()),
    scheduled_min: Opt(Type.Number()),
    due_min: Opt(Type.Number()),
    locked_closed_min: Opt(Type.Number()),
    exempt_min: Opt(Type.Number()),
    offline_min: Opt(Type.Number()),
    breach_min: Opt(Type.Number()),
    tamper_count: Opt(Type.Number()),
    ratio: Opt(Type.Number()),
  },
  { additionalProperties: Type.Unknown() },
);
export type ComplianceRow = Static<typeof ComplianceRow>;

export const ComplianceResult = Type.Object({
  level: StringEnum(COMPLIANCE_LEVELS),
  from: IsoDate,
  to: IsoDate,
  columns: Type.Array(Type.String()),
  rows: Type.Array(ComplianceRow),
});
export type ComplianceResult = Static<typeof ComplianceResult>;

// Policy, exemptions, emergency release, stored phones (P1–P8)

export const Directive = Type.Object({
  signage: SignageMode,
  locked: Type.Boolean(),
  reason: StringEnum(['timetable', 'exemption', 'emergency-release', 'staff'] as const),
  kind: TimeKind,
  period: Opt(Type.String()),
  warning: Opt(Type.Boolean()),
});

export const Emergency = Type.Object({
  id: Type.String(),
  startedBy: Type.String(),
  startedAt: Ms,
  endedBy: Opt(Type.String()),
  endedAt: Opt(Ms),
});

export const StorageRelease = Type.Object({
  id: Type.String(),
  room: Type.String(),
  date: IsoDate,
  reason: Type.String(),
  releasedBy: Type.String(),
  releasedAt: Ms,
  relockedBy: Opt(Type.String()),
  relockedAt: Opt(Ms),
});

export const SCHOOL_SECTION_NAMES = ['timetable', 'zones-rooms', 'policy'] as const;

/** GET /api/policy: the school model as the dashboard shows it, with the directive each device has now. */
export const PolicyView = Type.Object({
  site: Type.String(),
  name: Type.String(),
  timetable: Timetable,
  zones: Type.Array(Zone),
  rooms: Type.Array(Room),
  policy: Policy,
  versions: Type.Partial(
    Type.Object({ timetable: Type.String(), 'zones-rooms': Type.String(), policy: Type.String() }),
  ),
  today: Type.Object({ date: IsoDate, status: StringEnum(['open', 'weekend', 'holiday', 'inset'] as const) }),
  now: Type.Object({
    date: IsoDate,
    timeKind: TimeKind,
    period: Nullable(Period),
    nextBoundary: Ms,
    emergency: Nullable(Emergency),
  }),
  devices: Type.Array(
    Type.Object({ id: Type.String(), room: Type.String(), lockerMode: LockerMode, directive: Directive }),
  ),
});
export type PolicyView = Static<typeof PolicyView>;

/** One policy cell where the school's matrix differs from its trust's baseline. */
export const BaselineDifference = Type.Object({
  zone: ZoneKind,
  audience: Role,
  time: TimeKind,
  school: Permission,
  baseline: Permission,
});
/** GET /api/policy/baseline: how this school's policy differs from its trust's baseline, if it has one. */
export const BaselineView = Type.Object({
  configured: Type.Boolean({ description: 'A trust baseline is set in the hub configuration.' }),
  name: Opt(Type.String({ description: 'The baseline as the trust names it.' })),
  problem: Opt(Type.String({ description: 'Why the configured baseline could not be read.' })),
  differences: Type.Array(BaselineDifference),
});
export type BaselineView = Static<typeof BaselineView>;

export const ExemptionStep = Type.Object({
  exemption: Type.String(),
  step: Type.Integer(),
  action: StringEnum(['requested', 'granted', 'revoked'] as const),
  by: Type.String(),
  at: Ms,
  room: Opt(Type.String()),
  period: Opt(Type.String()),
  date: Opt(IsoDate),
  reason: Opt(Type.String()),
  note: Opt(Type.String()),
});

/** GET /api/exemptions: the record plus its status now ('expired' derived). */
export const ExemptionView = Type.Object({
  id: Type.String(),
  room: Type.String(),
  period: Type.String(),
  date: IsoDate,
  reason: Type.String(),
  status: StringEnum(['requested', 'granted', 'revoked', 'expired'] as const),
  start: Ms,
  end: Ms,
  requestedBy: Type.String(),
  requestedAt: Ms,
  grantedBy: Opt(Type.String()),
  grantedAt: Opt(Ms),
  revokedBy: Opt(Type.String()),
  revokedAt: Opt(Ms),
  steps: Type.Array(ExemptionStep),
});
export type ExemptionView = Static<typeof ExemptionView>;

export const EmergencyStarted = Type.Object({ emergency: Emergency, devices: Type.Integer() });
export const EmergencyEnded = Type.Object({ emergency: Emergency });
export const StorageReleaseResult = Type.Object({ release: StorageRelease });

/** PUT /api/school/<section>: the section as saved. */
export const SchoolSectionSaved = Type.Union([
  Timetable,
  Policy,
  Type.Object({ zones: Type.Array(Zone), rooms: Type.Array(Room) }),
]);
export { SchoolModel };

// Devices (S4, S8, D4) and the live grid

export const PublicDevice = Type.Object({
  id: Type.String(),
  site: Type.String(),
  room: Type.String(),
  status: StringEnum(['pending', 'approved', 'revoked'] as const),
  lockerMode: LockerMode,
  serial: Opt(Type.String()),
  installed: Opt(Type.String()),
  software: Opt(Type.String()),
  lastSeen: Opt(Ms),
  createdAt: Ms,
});
export type PublicDevice = Static<typeof PublicDevice>;

export const PublicToken = Type.Object({
  id: Type.String(),
  createdAt: Ms,
  createdBy: Type.String(),
  expiresAt: Ms,
  maxUses: Type.Integer(),
  uses: Type.Integer(),
  revoked: Opt(Type.Boolean()),
  devices: Type.Array(Type.String()),
});
export type PublicToken = Static<typeof PublicToken>;

export const IssuedToken = Type.Object({
  token: Type.String({ description: 'Shown once: the hub keeps only its hash.' }),
  record: PublicToken,
});
export type IssuedToken = Static<typeof IssuedToken>;
export const RotatedDevice = Type.Object({
  device: PublicDevice,
  secret: Type.String({ description: 'Shown once: the hub keeps only its hash.' }),
});
export const AddedDevice = RotatedDevice;

export const SoftwareStatus = Type.Object({
  expected: Type.String(),
  source: StringEnum(['configured', 'hub'] as const),
  outOfDate: Type.Array(Type.String()),
});
export type SoftwareStatus = Static<typeof SoftwareStatus>;

/** A row of the Today grid (GET /api/rooms, and the event stream's device events). */
export const DeviceView = Type.Object({
  site: Type.String(),
  room: Type.String(),
  device: Type.String(),
  online: Type.Boolean(),
  locker: Opt(LockerState),
  signage: Opt(SignageState),
  software: Opt(Type.String()),
  queued: Opt(Type.Integer()),
  lastSeen: Opt(Ms),
  fault: Opt(Type.String()),
  storageFault: Opt(Type.Boolean()),
  confiscated: Opt(Type.Integer()),
  suspect: Opt(Type.String()),
});
export type DeviceView = Static<typeof DeviceView>;

// Confiscations (P7)

export const Confiscation = Type.Object({
  id: Type.String(),
  site: Type.String(),
  room: Type.String(),
  device: Type.String(),
  slot: Type.Integer(),
  note: Type.String(),
  recordedBy: Type.String(),
  recordedAt: Ms,
  returnedBy: Opt(Type.String()),
  returnedAt: Opt(Ms),
});
export type Confiscation = Static<typeof Confiscation>;

// Accounts (S1, S5)

export const UserView = Type.Object({
  username: Type.String(),
  roles: Type.Array(StaffRoleName),
  disabled: Type.Boolean(),
  createdAt: Ms,
  totpEnrolled: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  email: Opt(Type.String()),
});
export type UserView = Static<typeof UserView>;

/** A pending account change as the dashboard shows it: never a password hash. */
export const PendingView = Type.Object({
  id: Type.String(),
  kind: StringEnum(['add', 'roles', 'password', 'reset-totp', 'enable'] as const),
  username: Type.String(),
  roles: Opt(Type.Array(StaffRoleName)),
  requestedBy: Type.String(),
  requestedAt: Ms,
  description: Type.String(),
});
export type PendingView = Static<typeof PendingView>;

/** An account change: applied at once (the account), or waiting for the head or DSL (202, the pending change). */
export const AccountChange = Type.Union([UserView, Type.Object({ pending: PendingView })]);

// Audit (S6)

export const AuditRow = Type.Object({
  cursor: Type.String(),
  at: Ms,
  actor: Type.String(),
  action: Type.String(),
  target: Type.String(),
  before: Opt(Type.Unknown()),
  after: Opt(Type.Unknown()),
});
export type AuditRow = Static<typeof AuditRow>;

export const VerifyResult = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  broken: Opt(Type.Object({ reason: Type.String(), at: Opt(Type.Integer()) })),
  lastSent: Opt(Type.Object({ hash: Type.String(), sentAt: Ms, matches: Type.Boolean() })),
});
export type VerifyResult = Static<typeof VerifyResult>;

// Operations

/** GET /api/health: `healthy` for anyone; with the operations token, the figures behind it too. */
export const Health = Type.Object(
  { healthy: Type.Boolean() },
  {
    additionalProperties: true,
    description: 'With the operations bearer token: version, counts and states.',
  },
);

/** GET /healthz: ok or degraded; with the operations token, what is wrong and the figures behind it. */
export const Healthz = Type.Object(
  { status: StringEnum(['ok', 'degraded'] as const), problems: Opt(Type.Array(Type.String())) },
  { additionalProperties: true },
);

/** GET /api/incidents/:id/export?format=json: the hand-off record for CPOMS or MyConcern (text and CSV alike). */
export const HandOffRecord = Type.Object({
  reference: Type.String(),
  kind: StringEnum(['report', 'tamper'] as const),
  site: Type.String(),
  room: Type.String(),
  urgency: StringEnum(['normal', 'urgent'] as const),
  date: Type.String(),
  time: Type.String(),
  reportedAtIso: Type.String(),
  recordedBy: Type.String(),
  category: Type.String(),
  description: Type.String(),
  actions: Type.Array(
    Type.Object({
      at: Type.String(),
      by: Type.String(),
      text: Type.String(),
      referral: Opt(
        Type.Object({ agency: Type.String(), date: Type.String(), reference: Opt(Type.String()) }),
      ),
    }),
  ),
  outcome: Type.String(),
  status: IncidentStatus,
  routedTo: Type.String(),
  chronology: Type.Array(
    Type.Object({ at: Type.String(), by: Type.String(), action: Type.String(), detail: Type.String() }),
  ),
});

/** GET /api/openapi.json: this document (OpenAPI 3.1). */
export const OpenApiDocument = Type.Object(
  {
    openapi: Type.Literal('3.1.0'),
    info: Type.Object({}, { additionalProperties: true }),
    paths: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: true },
);

// Fleet software updates (S8)

export const ReleaseRecord = Type.Object({
  version: Type.String(),
  size: Type.Integer({ description: 'Of the bundle file as stored and served.' }),
  sha256: Type.String(),
  keyId: Type.String(),
  target: Type.Object({ platform: Type.String(), arch: Type.String(), nodeMajor: Type.Integer() }),
  builtAt: Type.String(),
  addedAt: Ms,
  addedBy: Type.String(),
});
export type ReleaseRecord = Static<typeof ReleaseRecord>;

export const RolloutStep = Type.Union([
  Type.Object({ kind: Type.Literal('room'), room: Type.String() }),
  Type.Object({ kind: Type.Literal('percent'), percent: Type.Number() }),
  Type.Object({ kind: Type.Literal('everyone') }),
]);

export const DeviceProgress = Type.Object({
  room: Type.String(),
  stage: StringEnum([...UPDATE_STAGES, 'offered', 'withdrawn'] as const),
  reason: Opt(Type.String()),
  running: Opt(Type.String()),
  at: Ms,
});

export const Rollout = Type.Object({
  id: Type.String(),
  version: Type.String(),
  downgrade: Type.Boolean(),
  maxRollbacks: Type.Integer(),
  steps: Type.Array(RolloutStep),
  status: StringEnum(['running', 'halted', 'stopped'] as const),
  haltReason: Opt(Type.String()),
  startedAt: Ms,
  startedBy: Type.String(),
  devices: Type.Record(Type.String(), DeviceProgress),
});
export type Rollout = Static<typeof Rollout>;

/** GET /api/updates: the releases the hub holds and the roll-out in progress, if any. */
export const UpdatesView = Type.Object({ releases: Type.Array(ReleaseRecord), rollout: Nullable(Rollout) });

// Data retention and backups (D2, D3)
export const RetentionLine = Type.Object({
  what: Type.String(),
  keptFor: Type.String({ description: 'The period in plain words.' }),
  note: Type.String(),
});
export const RetentionView = Type.Object({
  lines: Type.Array(RetentionLine),
  lastRunAt: Nullable(Ms),
});
export type RetentionView = Static<typeof RetentionView>;

export const BackupArchive = Type.Object({
  file: Type.String(),
  bytes: Type.Integer({ minimum: 0 }),
  at: Ms,
});
export const BackupStatus = Type.Object({
  dir: Type.String(),
  keep: Type.Integer({ minimum: 1 }),
  runAt: Type.String({ description: 'Local time of the daily run, HH:MM.' }),
  running: Nullable(Type.Object({ startedAt: Ms, step: Type.String() })),
  lastRunAt: Nullable(Ms),
  lastError: Nullable(Type.String()),
  archives: Type.Array(BackupArchive),
});
/** null when no daily backup is configured. */
export const BackupView = Nullable(BackupStatus);
export type BackupView = Static<typeof BackupView>;
