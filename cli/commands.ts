/**
 * The `phones-away` command line, declared once: each command's options (for `node:util` parseArgs), its
 * positionals and its help text. Parsing is pure (no I/O, no imports of the programs it runs), so `--help` is fast
 * and the whole table is testable; `cli/main.ts` turns the result into output and an exit code.
 *
 * Exit codes follow the usual convention: 0 for success and for `--help`, 1 when a command fails, 2 for a usage
 * error (unknown command or option, a missing required option, a value of the wrong kind).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export class UsageError extends Error {
  readonly code = 'E_USAGE';
  constructor(
    message: string,
    /** The command whose help the user should read, if it is known. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec {
  name: string;
  summary: string;
  /** Synopsis lines, without the leading `phones-away `. */
  synopsis: string[];
  options: Options;
  /** One line per option (and per action), shown under the synopsis. */
  details: string[];
  /** Names of the positionals this command takes, in order; none means no positionals are allowed. */
  positionals: string[];
  /** Allowed values of the first positional, when it is an action. */
  actions?: readonly string[];
  /** Options that must be present (checked after --help, so `--help` alone always works). */
  required?: (values: ParsedValues, positionals: string[]) => string[];
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export const DEVICE_ACTIONS = ['list', 'add', 'approve', 'revoke', 'rotate', 'token'] as const;
export const USER_ACTIONS = ['add', 'passwd', 'role', 'disable', 'enable', 'reset-totp', 'list'] as const;
export const AUDIT_ACTIONS = ['verify'] as const;
export const RELEASE_ACTIONS = ['keygen', 'build', 'sign', 'verify', 'add'] as const;
const DEVICE_ADMIN_OPTIONS = ['room', 'locker-mode', 'max-uses', 'ttl-minutes'];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'hub',
    summary: 'run the school hub (broker, policy, incident log, dashboard)',
    synopsis: ['hub --config <hub.json>'],
    options: { config: { type: 'string' } },
    details: ['--config <file>   the hub configuration (schema hub-config)'],
    positionals: [],
    required: (v) => (v.config ? [] : ['--config']),
  },
  {
    name: 'device',
    summary: 'run a classroom device program, or manage devices on a stopped hub',
    synopsis: [
      'device --config <device.json>',
      'device list    --config <hub.json>',
      'device add     --config <hub.json> <id> --room <room> [--locker-mode lesson|day-storage|open]',
      'device approve --config <hub.json> <id> --room <room> [--locker-mode …]',
      'device revoke  --config <hub.json> <id>',
      'device rotate  --config <hub.json> <id>',
      'device token   --config <hub.json> [--max-uses <n>] [--ttl-minutes <n>]',
    ],
    options: {
      config: { type: 'string' },
      room: { type: 'string' },
      'locker-mode': { type: 'string' },
      'max-uses': { type: 'string' },
      'ttl-minutes': { type: 'string' },
    },
    details: [
      'With no action, runs the device program (locker, signage, report button) from <device.json>.',
      'With an action, opens the hub database of <hub.json>: the hub must be stopped (else use the dashboard).',
      '--config <file>        device.json to run, or hub.json to manage',
      '--room <room>          the room a device is added or approved into',
      '--locker-mode <mode>   lesson (default), day-storage or open',
      '--max-uses <n>         devices one enrolment token may enrol (default 1)',
      '--ttl-minutes <n>      how long an enrolment token is valid (default 1440)',
    ],
    positionals: ['action', 'id'],
    actions: DEVICE_ACTIONS,
    required: (v, [action, id]) => {
      const missing = v.config ? [] : ['--config'];
      if (!action) {
        const stray = DEVICE_ADMIN_OPTIONS.filter((o) => v[o] !== undefined);
        if (stray.length)
          throw new UsageError(`--${stray[0]} needs a device action (add, approve …)`, 'device');
        return missing;
      }
      if (['add', 'approve', 'revoke', 'rotate'].includes(action) && !id) missing.push('<id>');
      if ((action === 'add' || action === 'approve') && !v.room) missing.push('--room');
      return missing;
    },
  },
  {
    name: 'demo',
    summary: 'run everything on this machine with simulated classrooms',
    synopsis: ['demo [--data-dir <dir>] [--http-port <n>] [--trust]'],
    options: { 'data-dir': { type: 'string' }, 'http-port': { type: 'string' }, trust: { type: 'boolean' } },
    details: [
      '--data-dir <dir>   where the demo keeps its data (default .data/demo)',
      '--http-port <n>    dashboard port (default: a free port)',
      "--trust            also run a trust's read-only view over the demo's InfluxDB",
    ],
    positionals: [],
  },
  {
    name: 'certs',
    summary: "make the school's CA, the hub's TLS certificate and device certificates",
    synopsis: ['certs --dir <dir> --hub-host <name> [--device <id> …] [--school-name <name>]'],
    options: {
      dir: { type: 'string' },
      'hub-host': { type: 'string' },
      device: { type: 'string', multiple: true },
      'school-name': { type: 'string' },
    },
    details: [
      '--dir <dir>            where the CA and certificates are written (an existing CA is reused)',
      "--hub-host <name>      the hub's host name, put in its certificate",
      '--device <id>          a device certificate (CN = id); repeat for more',
      "--school-name <name>   the CA's organisation name",
    ],
    positionals: [],
    required: (v) => ['dir', 'hub-host'].filter((o) => !v[o]).map((o) => `--${o}`),
  },
  {
    name: 'user',
    summary: 'manage staff accounts on a stopped hub',
    synopsis: [
      'user add <username> --role <r1,r2> [--password-file <f>]  --data-dir <dir>',
      'user passwd <username> [--password-file <f>]               --data-dir <dir>',
      'user role <username> --role <r1,r2>                        --data-dir <dir>',
      'user disable|enable|reset-totp <username>                  --data-dir <dir>',
      'user list                                                  --data-dir <dir>',
    ],
    options: {
      'data-dir': { type: 'string' },
      config: { type: 'string' },
      role: { type: 'string' },
      'password-file': { type: 'string' },
    },
    details: [
      '--data-dir <dir>        the hub data directory (or --config <hub.json>)',
      '--role <r1,r2>          office, teacher, coordinator, dsl, head, admin, governor',
      '--password-file <f>     the new password; else one line on stdin, or generated on a terminal',
      'Coordinator, DSL, head, admin and governor enrol an authenticator at first sign-in.',
      'Run with the hub stopped; while it runs, use the dashboard (Settings → Accounts).',
    ],
    positionals: ['action', 'username'],
    actions: USER_ACTIONS,
    required: (v, [action, username]) => {
      const missing = v['data-dir'] || v.config ? [] : ['--data-dir'];
      if (!action) missing.push('<action>');
      else if (action !== 'list' && !username) missing.push('<username>');
      if ((action === 'add' || action === 'role') && !v.role) missing.push('--role');
      return missing;
    },
  },
  {
    name: 'audit',
    summary: 'check the audit chain, against a fingerprint from an anchor email (hub stopped)',
    synopsis: ['audit verify --data-dir <dir> [--against <entries>:<hash>]'],
    options: {
      'data-dir': { type: 'string' },
      config: { type: 'string' },
      against: { type: 'string' },
    },
    details: [
      'verify              recompute every hash and link; exit 1 when the chain is broken, cut short or rewritten',
      '--data-dir <dir>    the hub data directory (or taken from --config)',
      '--config <file>     hub.json, to take the data directory from',
      '--against <e>:<h>   the entry count and fingerprint from a daily anchor email or webhook',
    ],
    positionals: ['action'],
    actions: AUDIT_ACTIONS,
    required: (v) => (v['data-dir'] || v.config ? [] : ['--data-dir']),
  },
  {
    name: 'release',
    summary: 'build, sign and check device release bundles; add one to a stopped hub',
    synopsis: [
      'release keygen --out <name>                  (writes <name>.key, keep offline, and <name>.pub)',
      'release build  --out <file.bundle> [--version <v>] [--root <dir>] [--no-deps]',
      'release sign   <file.bundle> --key <name.key>',
      'release verify <file.bundle> --public-key <name.pub> [--public-key …]',
      'release add    <file.bundle> --config <hub.json>',
    ],
    options: {
      out: { type: 'string' },
      version: { type: 'string' },
      root: { type: 'string' },
      'no-deps': { type: 'boolean' },
      key: { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      config: { type: 'string' },
    },
    details: [
      '--out <path>          keygen: the key pair name; build: the bundle to write',
      "--version <v>         the release's version (default: package.json's)",
      '--root <dir>          the built tree: dist/ from npm run build, package.json, node_modules (default .)',
      '--no-deps             leave the production dependencies out (the device already has them)',
      '--key <file>          the Ed25519 private key (PEM) to sign with',
      '--public-key <file>   a trusted public key (PEM); repeat for more',
      '--config <file>       hub.json: add verifies against its updates.publicKeys (hub stopped; else the dashboard)',
      'Build on the platform the devices run (e.g. a Pi): native dependencies are built per platform.',
    ],
    positionals: ['action', 'bundle'],
    actions: RELEASE_ACTIONS,
    required: (v, [action, bundle]) => {
      if (!action) return ['<action>'];
      const missing: string[] = [];
      if ((action === 'keygen' || action === 'build') && !v.out) missing.push('--out');
      if (['sign', 'verify', 'add'].includes(action) && !bundle) missing.push('<file.bundle>');
      if (action === 'sign' && !v.key) missing.push('--key');
      if (action === 'verify' && !v['public-key']) missing.push('--public-key');
      if (action === 'add' && !v.config) missing.push('--config');
      return missing;
    },
  },
  {
    name: 'backup',
    summary: 'back up the hub database, configuration and InfluxDB (hub stopped)',
    synopsis: ['backup --data-dir <dir> --out <file.tar.gz> [--config <hub.json>] [--database <name>]'],
    options: {
      'data-dir': { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
      database: { type: 'string' },
    },
    details: [
      '--data-dir <dir>    the hub data directory (or taken from --config)',
      '--out <file>        the archive to write',
      '--config <file>     hub.json: its configuration files go into the archive too',
      '--database <name>   the InfluxDB database (default phones-away, or the one in --config)',
    ],
    positionals: [],
    required: (v) => [...(v['data-dir'] || v.config ? [] : ['--data-dir']), ...(v.out ? [] : ['--out'])],
  },
  {
    name: 'restore',
    summary: 'restore a backup into a data directory (hub stopped)',
    synopsis: ['restore --data-dir <dir> --from <file.tar.gz>'],
    options: {
      'data-dir': { type: 'string' },
      config: { type: 'string' },
      from: { type: 'string' },
    },
    details: [
      '--data-dir <dir>    the hub data directory to restore into',
      '--config <file>     hub.json, to take the data directory from',
      '--from <file>       the archive made by phones-away backup',
      'Configuration files are restored beside the data, never over the live ones.',
    ],
    positionals: [],
    required: (v) => [...(v['data-dir'] || v.config ? [] : ['--data-dir']), ...(v.from ? [] : ['--from'])],
  },
  {
    name: 'trust',
    summary: "run a trust's read-only dashboard over the schools' shared InfluxDB",
    synopsis: ['trust --config <trust.json>'],
    options: { config: { type: 'string' } },
    details: [
      '--config <file>   the trust configuration (schema trust-config): schools, shared store, port',
      'Reads only the shared store the hubs write to; never connects to a school hub.',
      "First start prints the trust leader's one-time password; the leader adds other accounts on Accounts.",
    ],
    positionals: [],
    required: (v) => (v.config ? [] : ['--config']),
  },
];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 3;
  return [
    'Usage: phones-away <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'phones-away <command> --help' for a command's options.",
  ].join('\n');
}

export function commandUsage(spec: CommandSpec): string {
  return [
    `Usage: ${spec.synopsis.map((s, i) => `${i ? '       ' : ''}phones-away ${s}`).join('\n')}`,
    '',
    `${spec.summary[0]?.toUpperCase()}${spec.summary.slice(1)}.`,
    '',
    ...spec.details.map((d) => `  ${d}`),
    `  ${'-h, --help'.padEnd(helpColumn(spec.details))}show this help`,
  ].join('\n');
}

/** Where the option descriptions start, so `--help`'s own line lines up with them. */
function helpColumn(details: string[]): number {
  const option = details
    .map((d) => /^--\S+(?: <[^>]+>)?\s+/.exec(d)?.[0].length)
    .find((n) => n !== undefined);
  return option ?? 13;
}

export type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'run'; command: string; values: ParsedValues; positionals: string[] };

/** Parses a whole command line; throws UsageError for anything a user must correct. */
export function parseCommandLine(argv: readonly string[]): Parsed {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic === undefined) return { kind: 'help', text: usage() };
    return { kind: 'help', text: commandUsage(findCommand(topic)) };
  }
  if (name.startsWith('-')) throw new UsageError(`unknown option '${name}' (a command comes first)`);
  const spec = findCommand(name);
  let parsed: { values: ParsedValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as { values: ParsedValues; positionals: string[] };
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const message = (error as Error).message;
    // Node's own text adds advice about `--` that reads oddly for a mistyped option; the option name is enough.
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`unknown option '${unknown[1]}'`, spec.name);
    if (code.startsWith('ERR_PARSE_ARGS')) throw new UsageError(message, spec.name);
    throw error;
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help', text: commandUsage(spec) };
  if (positionals.length > spec.positionals.length) {
    const extra = positionals[spec.positionals.length];
    throw new UsageError(`unexpected argument '${extra}'`, spec.name);
  }
  const action = positionals[0];
  if (spec.actions && action !== undefined && !spec.actions.includes(action)) {
    throw new UsageError(
      `unknown ${spec.name} action '${action}': one of ${spec.actions.join(', ')}`,
      spec.name,
    );
  }
  const missing = spec.required?.(values, positionals) ?? [];
  if (missing.length) throw new UsageError(`missing ${missing.join(', ')}`, spec.name);
  return { kind: 'run', command: spec.name, values, positionals };
}

function findCommand(name: string): CommandSpec {
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec)
    throw new UsageError(`unknown command '${name}': one of ${COMMANDS.map((c) => c.name).join(', ')}`);
  return spec;
}
