/** Configuration file schemas: hub config, device config and the school model (zones, rooms, devices, timetable, policy). */
import { type Static, Type } from '@sinclair/typebox';
import { ClockTime, IsoDate, SchemaVersion, Slug, StringEnum } from './common.js';
import { LockerMode } from './messages.js';

const Port = Type.Integer({ minimum: 0, maximum: 65535, description: '0 picks a free port.' });
const Host = Type.String({ minLength: 1, maxLength: 253 });
const FilePath = Type.String({ minLength: 1, maxLength: 4096 });

export const ZONE_KINDS = ['curriculum', 'designated-phone-area', 'office'] as const;
export const ZoneKind = StringEnum(ZONE_KINDS, { description: 'P3: where phones may or may not be used.' });
export type ZoneKind = Static<typeof ZoneKind>;

export const PERIOD_KINDS = ['registration', 'assembly', 'lesson', 'break', 'lunch'] as const;
/** P1, P5: registration and assembly are formal school time: classroom lockers stay locked through them. */
export const PeriodKind = StringEnum(PERIOD_KINDS);
export type PeriodKind = Static<typeof PeriodKind>;

/** Time kinds the policy matrix is written against: periods plus the times outside them. */
export const TIME_KINDS = [
  'before-school',
  'registration',
  'assembly',
  'lesson',
  'break',
  'lunch',
  'after-school',
  'closed',
] as const;
export const TimeKind = StringEnum(TIME_KINDS);
export type TimeKind = Static<typeof TimeKind>;

export const ROLES = ['pupil', 'staff'] as const;
export const Role = StringEnum(ROLES);

export const Permission = StringEnum(['no', 'yes', 'if-unavoidable'] as const, {
  description: "P8: 'if-unavoidable' is the staff 'Not if avoidable' column.",
});
export type Permission = Static<typeof Permission>;

export const PolicyRule = Type.Object(
  { role: Role, time: TimeKind, zone: ZoneKind, phones: Permission },
  { additionalProperties: false },
);
export type PolicyRule = Static<typeof PolicyRule>;

export const Policy = Type.Object(
  {
    preset: StringEnum(['seed', 'dfe-2026', 'custom'] as const),
    warningMinutes: Type.Integer({ minimum: 0, maximum: 30, default: 2 }),
    graceMinutes: Type.Integer({ minimum: 0, maximum: 30, default: 5 }),
    matrix: Type.Array(PolicyRule, { maxItems: 200 }),
  },
  { additionalProperties: false },
);
export type Policy = Static<typeof Policy>;

export const Period = Type.Object(
  {
    id: Slug,
    name: Type.String({ minLength: 1, maxLength: 40 }),
    kind: PeriodKind,
    start: ClockTime,
    end: ClockTime,
  },
  { additionalProperties: false },
);
export type Period = Static<typeof Period>;

export const Timetable = Type.Object(
  {
    timezone: Type.String({ minLength: 1, maxLength: 64, default: 'Europe/London' }),
    weekdays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
      minItems: 1,
      maxItems: 7,
      uniqueItems: true,
      description: 'ISO weekdays the school is open: 1 = Monday.',
    }),
    arrival: ClockTime,
    homeTime: ClockTime,
    periods: Type.Array(Period, { maxItems: 24 }),
    terms: Type.Array(Type.Object({ name: Type.String({ maxLength: 40 }), start: IsoDate, end: IsoDate }), {
      maxItems: 12,
    }),
    insetDays: Type.Array(IsoDate, { maxItems: 60 }),
  },
  { additionalProperties: false },
);
export type Timetable = Static<typeof Timetable>;

export const Zone = Type.Object(
  { id: Slug, name: Type.String({ minLength: 1, maxLength: 60 }), kind: ZoneKind },
  { additionalProperties: false },
);
export const Room = Type.Object(
  { id: Slug, name: Type.String({ minLength: 1, maxLength: 60 }), zone: Slug },
  { additionalProperties: false },
);
export const DeviceEntry = Type.Object(
  {
    id: Slug,
    room: Slug,
    lockerMode: LockerMode,
    serial: Type.Optional(Type.String({ maxLength: 64 })),
    installed: Type.Optional(IsoDate),
  },
  { additionalProperties: false, description: 'D4: the device registry is the hardware inventory.' },
);

export const SchoolModel = Type.Object(
  {
    version: SchemaVersion,
    site: Slug,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    zones: Type.Array(Zone, { maxItems: 100 }),
    rooms: Type.Array(Room, { maxItems: 500 }),
    devices: Type.Array(DeviceEntry, { maxItems: 5000 }),
    timetable: Timetable,
    policy: Policy,
  },
  { $id: 'school-model', additionalProperties: false, title: 'SchoolModel' },
);
export type SchoolModel = Static<typeof SchoolModel>;

const Email = Type.String({ pattern: '^[^@\\s<>]+@[^@\\s<>]+$', maxLength: 254 });
const Recipients = Type.Array(Email, { maxItems: 20 });

export const IncidentsConfig = Type.Object(
  {
    acknowledgeBy: Type.Optional(
      Type.Union([Type.Literal('home-time'), ClockTime], {
        description:
          "R2: an unacknowledged report escalates to the DSL at this local time on the day it arrived ('home-time' = the timetable's homeTime).",
      }),
    ),
    escalateAfterMinutes: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_080,
        description:
          'A minimum wait: a report arriving after the deadline escalates this long after it arrived.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type IncidentsConfig = Static<typeof IncidentsConfig>;

export const NotificationsConfig = Type.Object(
  {
    dashboardUrl: Type.String({
      format: 'uri',
      description: 'Notifications link here, never carry content.',
    }),
    email: Type.Optional(
      Type.Object(
        {
          host: Host,
          port: Port,
          secure: Type.Optional(Type.Boolean({ description: 'TLS from the start (port 465).' })),
          requireTls: Type.Optional(
            Type.Boolean({ description: 'Refuse to send unless STARTTLS succeeds.' }),
          ),
          username: Type.Optional(Type.String({ maxLength: 254 })),
          passwordFile: Type.Optional(FilePath),
          from: Email,
          to: Type.Object(
            {
              coordinator: Type.Optional(Recipients),
              dsl: Type.Optional(Recipients),
              head: Type.Optional(Recipients),
              governor: Type.Optional(Recipients),
              admin: Type.Optional(Recipients),
            },
            {
              additionalProperties: false,
              description:
                'Recipients per role the incident is routed to. Alerts that an account is being guessed at go to admin and dsl.',
            },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    webhook: Type.Optional(
      Type.Object(
        {
          url: Type.String({ format: 'uri', pattern: '^https?://' }),
          secretFile: Type.Optional(FilePath),
        },
        { additionalProperties: false },
      ),
    ),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, default: 5 })),
    retryDelaySeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3600,
        default: 30,
        description: 'First retry delay; doubles each time.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type NotificationsConfig = Static<typeof NotificationsConfig>;

const LimitRule = (what: string, free: number, maxDelay: number) =>
  Type.Object(
    {
      freeAttempts: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: free,
          description: `Failed sign-ins ${what} before any wait.`,
        }),
      ),
      firstDelaySeconds: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 3600,
          default: 30,
          description: 'Wait after the last free attempt; doubles with each further failure.',
        }),
      ),
      maxDelaySeconds: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 86_400, default: maxDelay, description: 'The longest wait.' }),
      ),
    },
    { additionalProperties: false },
  );

export const LoginConfig = Type.Object(
  {
    account: Type.Optional(
      LimitRule('on one account from browsers that never signed in to it (any address)', 5, 900),
    ),
    address: Type.Optional(LimitRule('from one network address, across accounts', 20, 3600)),
    device: Type.Optional(LimitRule('from one remembered browser on one account', 5, 900)),
    forgetAfterMinutes: Type.Optional(
      Type.Integer({
        minimum: 10,
        maximum: 43_200,
        default: 1440,
        description:
          'Counters quiet this long start again from nothing; at most one alert per account in this time.',
      }),
    ),
    rememberBrowserDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 730,
        default: 180,
        description: 'A browser that signed in is remembered this long after its last sign-in.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'S1: sign-in limits per account, per network address and per remembered browser, with growing waits (no fixed lock).',
  },
);
export type LoginConfig = Static<typeof LoginConfig>;

const Days = (description: string, def: number, minimum = 1) =>
  Type.Optional(Type.Integer({ minimum, maximum: 36_500, default: def, description }));
/**
 * D2: how long each kind of data is kept, in days. Absent = the default (hub/retention/retention-defaults.ts says why
 * each one); to keep a kind for good, give it 36500. Open incidents and unreturned confiscations are never removed.
 */
export const RetentionConfig = Type.Object(
  {
    rawEventsDays: Days('Raw device events in InfluxDB (reports, locker events and states, heartbeats).', 28),
    aggregatesDays: Days(
      'Derived series in InfluxDB (compliance per slot, day, week, term; report counts).',
      730,
    ),
    closedIncidentsDays: Days('Incidents, counted from when they were closed.', 2190),
    auditDays: Days('Audit log entries; removed only up to a head already sent off the hub.', 2190),
    complianceTimelineDays: Days(
      "Each locker's timeline and per-slot records in the hub database (the last known state is always kept; a " +
        'slot record stays until its term has ended). At least 15: lessons missed while the hub was down are ' +
        'recorded up to 14 days later from it.',
      28,
      15,
    ),
    exemptionsDays: Days(
      'Exemptions, emergency releases and stored-phone releases, counted from their end. At least 15 (compliance ' +
        'catch-up reads them).',
      730,
      15,
    ),
    confiscationsDays: Days('Returned confiscations, counted from their return.', 730),
    notificationJobsDays: Days('Notifications that could not be sent after every retry.', 28),
    runAt: Type.Optional(
      Type.String({
        pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
        default: '03:00',
        description:
          "Daily, at this time of the school's day (HH:MM, 24-hour), after the daily backup; a missed run happens within the hour after the next start.",
      }),
    ),
  },
  { additionalProperties: false, description: 'D2: absent = the documented default for each kind.' },
);
export type RetentionConfig = Static<typeof RetentionConfig>;

/** D3: the hub backs itself up once a day while it runs, keeping the newest `keep` archives in `dir`. */
export const BackupConfig = Type.Object(
  {
    dir: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'Where the daily archives go (0700). Best on another disk; copy them off the hub as well.',
    }),
    keep: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 366,
        default: 14,
        description: 'Archives kept; older ones are deleted after each new one (D2).',
      }),
    ),
    runAt: Type.Optional(
      Type.String({
        pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
        default: '02:00',
        description:
          "Daily, at this time of the school's day (HH:MM, 24-hour); a missed run happens at the next start.",
      }),
    ),
  },
  { additionalProperties: false, description: 'D3: daily backups of the running hub, with rotation.' },
);
export type BackupConfig = Static<typeof BackupConfig>;

const Count = (description: string, def: number) =>
  Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: def, description }));
const Millis = (description: string, def: number) =>
  Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000, default: def, description }));

/**
 * Limits that hold before anyone has authenticated (connection caps, handshake and CONNECT timeouts) and after
 * (a device's report rate). Defaults are in hub/limits.ts and fit a school of up to a few thousand devices.
 */
export const LimitsConfig = Type.Object(
  {
    mqtt: Type.Optional(
      Type.Object(
        {
          maxConnections: Count(
            'Open connections per MQTT listener (TCP, TLS); more are closed at once.',
            10_000,
          ),
          maxConnectionsPerAddress: Count(
            'Open connections from one IP address per MQTT listener. Raise it when devices share an address (NAT).',
            100,
          ),
          connectTimeoutMs: Millis('A connection that has not sent MQTT CONNECT by then is closed.', 5_000),
          tlsHandshakeTimeoutMs: Millis('A TLS handshake not finished by then is abandoned.', 5_000),
        },
        { additionalProperties: false },
      ),
    ),
    http: Type.Optional(
      Type.Object(
        {
          maxConnections: Count('Open connections to the dashboard and API.', 1_000),
          maxConnectionsPerAddress: Count('Open connections from one IP address.', 64),
          requestTimeoutMs: Millis(
            'A request (headers and body) not received in full by then is answered 408.',
            10_000,
          ),
          tlsHandshakeTimeoutMs: Millis('A TLS handshake not finished by then is abandoned.', 5_000),
        },
        { additionalProperties: false },
      ),
    ),
    reports: Type.Optional(
      Type.Object(
        {
          perDevicePerMinute: Count(
            'Reports one device may raise as separate incidents per minute, on average. Beyond it (and the burst) ' +
              'reports are still stored and acknowledged, but collapsed into one "flood" tamper incident.',
            6,
          ),
          burst: Count('Reports one device may raise back to back before the rate applies.', 10),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type LimitsConfig = Static<typeof LimitsConfig>;

/**
 * The trust tier: this hub also writes numbers only (compliance roll-ups, device health, optionally incident counts by
 * category, how its policy differs from the trust baseline) to the trust's shared InfluxDB, every point tagged with
 * its site. A hub never accepts a trust account: trust accounts live only in the trust server's own database.
 */
export const HubTrustConfig = Type.Object(
  {
    store: Type.Object(
      {
        url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 }),
        database: Slug,
        username: Type.Optional(
          Type.String({
            maxLength: 64,
            description:
              "This school's own write-only account on the shared store, where the store has them.",
          }),
        ),
        passwordFile: Type.Optional(FilePath),
      },
      { additionalProperties: false },
    ),
    shareIncidentCounts: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Share incident counts per safeguarding category per week (numbers only; no incident text ever leaves the school).',
      }),
    ),
    baselineFile: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description:
          "The trust's baseline policy (schemas/trust.ts TrustBaseline); the hub shows how it differs.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type HubTrustConfig = Static<typeof HubTrustConfig>;

export const HubConfig = Type.Object(
  {
    version: SchemaVersion,
    site: Slug,
    dataDir: FilePath,
    school: FilePath,
    secretsKeyFile: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description:
          'S3: the key (its own 0600 file, created on first start) that seals staff TOTP secrets in the database. ' +
          'Default: secrets.key in dataDir, beside the database and left out of backups; keep a copy apart from them.',
      }),
    ),
    mqtt: Type.Object(
      {
        host: Host,
        port: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 65535,
            description:
              'Plain MQTT port (0 picks a free port). Required without tls; with tls it is used only when plain is true.',
          }),
        ),
        plain: Type.Optional(
          Type.Boolean({
            description:
              'S7: with tls set, plain MQTT is off (device secrets and enrolment tokens would cross the network in ' +
              'clear) unless this is true.',
          }),
        ),
        tls: Type.Optional(
          Type.Object(
            { port: Port, cert: FilePath, key: FilePath, ca: Type.Optional(FilePath) },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    http: Type.Object(
      {
        host: Host,
        port: Port,
        tls: Type.Optional(
          Type.Object(
            { cert: FilePath, key: FilePath },
            {
              additionalProperties: false,
              description: 'S7: serve the dashboard over HTTPS (cookies become Secure).',
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    influx: Type.Object(
      {
        mode: StringEnum(['embedded', 'external'] as const, {
          description: 'embedded: the hub starts a private influxd under dataDir.',
        }),
        url: Type.Optional(Type.String({ format: 'uri' })),
        database: Slug,
        username: Type.Optional(Type.String({ maxLength: 64 })),
        passwordFile: Type.Optional(FilePath),
      },
      { additionalProperties: false },
    ),
    logLevel: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const),
    monitors: Type.Optional(
      Type.Array(Type.Object({ username: Slug, passwordFile: FilePath }, { additionalProperties: false }), {
        maxItems: 20,
        description:
          'S5: read-only MQTT accounts (a monitoring or building-management system): may subscribe to ' +
          'phones-away/v1/<site>/# and publish nothing. The secret (16+ characters) is read from passwordFile at start.',
      }),
    ),
    metrics: Type.Optional(
      Type.Object(
        {
          credentialsFile: Type.String({
            minLength: 1,
            maxLength: 4096,
            description:
              'S7: file holding the bearer token (16+ characters) that Prometheus sends to GET /metrics ' +
              '(its authorization.credentials_file); the same token opens the details of /healthz and /api/health.',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    incidents: Type.Optional(IncidentsConfig),
    notifications: Type.Optional(NotificationsConfig),
    retention: Type.Optional(RetentionConfig),
    backup: Type.Optional(BackupConfig),
    login: Type.Optional(LoginConfig),
    expectedDeviceSoftware: Type.Optional(
      Type.String({
        pattern: '^[0-9A-Za-z.+-]{1,32}$',
        description:
          'S8: the device software version every device should run; older devices are flagged out of date. ' +
          "Absent: the hub's own version.",
      }),
    ),
    limits: Type.Optional(LimitsConfig),
    updates: Type.Optional(
      Type.Object(
        {
          publicKeys: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), {
            minItems: 1,
            maxItems: 10,
            description:
              'Files holding the Ed25519 public keys (PEM, from `phones-away release keygen`) whose signatures the ' +
              'hub accepts on a release bundle. The private keys stay offline.',
          }),
          maxRollbacks: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 1000,
              description:
                'A roll-out stops by itself when more than this many devices roll back. Default 1.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description: 'Fleet updates: signed device releases and staged roll-outs.',
        },
      ),
    ),
    trust: Type.Optional(HubTrustConfig),
  },
  { $id: 'hub-config', additionalProperties: false, title: 'HubConfig' },
);
export type HubConfig = Static<typeof HubConfig>;

const PinNumber = Type.Integer({ minimum: 0, maximum: 53 });
const PinName = Type.Union([PinNumber, Type.String({ pattern: '^(A[0-5]|GPIO[0-9]{1,2}|P1-[0-9]{1,2})$' })]);

export const DeviceConfig = Type.Object(
  {
    version: SchemaVersion,
    site: Slug,
    room: Slug,
    deviceId: Slug,
    dataDir: FilePath,
    hub: Type.Object(
      {
        url: Type.String({ pattern: '^(mqtt|mqtts|ws|wss)://' }),
        username: Type.String({ minLength: 1, maxLength: 64 }),
        passwordFile: FilePath,
        ca: Type.Optional(FilePath),
        enrolTokenFile: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 4096,
            description:
              'S4: enrolment token from the dashboard. Used when passwordFile does not exist yet: the device makes ' +
              'its own secret, writes it to passwordFile and enrols; an admin then approves it.',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    clockSync: Type.Optional(
      StringEnum(['timedatectl', 'assume-synced', 'assume-unsynced'] as const, {
        description:
          "How the device learns whether its clock is synchronised. Default: 'assume-synced' on emulated-uno, " +
          "else 'timedatectl' (systemd's NTPSynchronized, read once a minute).",
      }),
    ),
    board: Type.Object(
      {
        kind: StringEnum(['emulated-uno', 'firmata-serial', 'raspi'] as const),
        serialPath: Type.Optional(FilePath),
      },
      { additionalProperties: false },
    ),
    pins: Type.Object(
      {
        lock: PinName,
        door: PinName,
        key: PinName,
        button: PinName,
        buttonLight: PinName,
        piezo: Type.Optional(PinName),
        signage: Type.Object(
          { red: PinName, green: PinName, blue: PinName },
          { additionalProperties: false },
        ),
        slots: Type.Array(PinName, { maxItems: 16 }),
      },
      { additionalProperties: false },
    ),
    timing: Type.Object(
      {
        longPressMs: Type.Integer({ minimum: 500, maximum: 10_000 }),
        heldTamperMs: Type.Integer({ minimum: 5_000, maximum: 600_000 }),
        confirmShowMs: Type.Integer({ minimum: 500, maximum: 30_000 }),
        heartbeatMs: Type.Integer({ minimum: 1_000, maximum: 300_000 }),
      },
      { additionalProperties: false },
    ),
    lockerMode: LockerMode,
    updates: Type.Optional(
      Type.Object(
        {
          publicKeys: Type.Array(FilePath, {
            minItems: 1,
            maxItems: 10,
            description: 'Files holding the Ed25519 public keys (PEM) a release must be signed with.',
          }),
          hubHttpUrl: Type.String({
            pattern: '^https?://',
            maxLength: 2048,
            description:
              "The hub's dashboard address; releases are fetched from it with the device's own secret.",
          }),
          installDir: Type.String({
            minLength: 1,
            maxLength: 4096,
            description:
              'Holds releases/<version>/ and the `current` symlink the service runs. The journal (dataDir) lives ' +
              'outside it, so every version shares it.',
          }),
          selfCheckS: Type.Optional(
            Type.Integer({
              minimum: 5,
              maximum: 3600,
              description:
                'A new version must reach the hub and pass its self-check within this time, or the device switches ' +
                'back. Default 120.',
            }),
          ),
          maxStarts: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 20,
              description: 'Starts a new version gets before the device switches back. Default 3.',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { $id: 'device-config', additionalProperties: false, title: 'DeviceConfig' },
);
export type DeviceConfig = Static<typeof DeviceConfig>;

export const configSchemas = {
  'school-model': SchoolModel,
  'hub-config': HubConfig,
  'device-config': DeviceConfig,
} as const;
