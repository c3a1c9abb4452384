/**
 * The `phones-away` command line as a user meets it: the real CLI spawned through tsx. `--help` on the command and
 * on every subcommand prints usage and exits 0; an unknown option or command is a clear error with exit code 2.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS, parseCommandLine, UsageError } from '../../../cli/commands.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

// Two CLIs at a time: the tests share a 2-core machine, and each spawn starts node and tsx.
let running = 0;
const waiting: (() => void)[] = [];
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (running >= 2) await new Promise<void>((go) => waiting.push(go));
  running++;
  try {
    return await spawnCli(args);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function spawnCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', ...args],
      { cwd: root, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe.concurrent('phones-away CLI help (spawned)', { timeout: 60_000 }, () => {
  it.each([[], ['--help']])('phones-away %s prints usage listing every command, exit 0', async (...args) => {
    const { code, stdout, stderr } = await cli(...(args as string[]));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: phones-away <command>/);
    for (const c of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${c.name}\\s`, 'm'));
  });

  it.each(COMMANDS.map((c) => [c.name]))(
    'phones-away %s --help prints its usage and every option, exit 0',
    async (name) => {
      const spec = COMMANDS.find((c) => c.name === name);
      const { code, stdout, stderr } = await cli(name, '--help');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: phones-away ${name}`));
      for (const option of Object.keys(spec?.options ?? {})) expect(stdout).toContain(`--${option}`);
    },
  );

  it.each([
    ['device', 'add'],
    ['user', 'add'],
  ])('phones-away %s %s --help prints the command usage, exit 0', async (name, action) => {
    const { code, stdout } = await cli(name, action, '--help');
    expect(code).toBe(0);
    expect(stdout).toContain(`phones-away ${name} ${action}`);
  });

  it.each([['hub'], ['user']])('phones-away %s --no-such-option is a usage error, exit 2', async (name) => {
    const { code, stdout, stderr } = await cli(name, '--no-such-option');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain("phones-away: unknown option '--no-such-option'");
    expect(stderr).toContain(`Run 'phones-away ${name} --help' for usage.`);
  });

  it('an unknown command is a usage error naming the commands, exit 2', async () => {
    const { code, stderr } = await cli('frobnicate');
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command 'frobnicate'");
    expect(stderr).toContain('hub, device, demo');
  });

  it('a non-numeric demo --http-port is a usage error, exit 2', async () => {
    const { code, stderr } = await cli('demo', '--http-port', 'eighty');
    expect(code).toBe(2);
    expect(stderr).toContain("--http-port must be a port number, not 'eighty'");
  });
});

describe('parseCommandLine', () => {
  const usageError = (argv: string[]) => {
    try {
      parseCommandLine(argv);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as UsageError).message;
    }
    throw new Error(`${argv.join(' ')} parsed without error`);
  };

  it('names every missing required option or argument at once', () => {
    expect(usageError(['hub'])).toBe('missing --config');
    expect(usageError(['certs'])).toBe('missing --dir, --hub-host');
    expect(usageError(['device', 'add', '--config', 'hub.json'])).toBe('missing <id>, --room');
    expect(usageError(['user', 'role', 'ann', '--data-dir', 'd'])).toBe('missing --role');
    expect(usageError(['backup'])).toBe('missing --data-dir, --out');
  });

  it('refuses unknown actions, extra arguments and a value-less option', () => {
    expect(usageError(['device', 'explode', '--config', 'h.json'])).toContain(
      "unknown device action 'explode'",
    );
    expect(usageError(['user', 'list', 'extra', 'more', '--data-dir', 'd'])).toBe(
      "unexpected argument 'more'",
    );
    expect(usageError(['hub', '--config'])).toContain("'--config <value>' argument missing");
    expect(usageError(['device', '--config', 'd.json', '--room', 'r1'])).toContain(
      '--room needs a device action',
    );
  });

  it.each(COMMANDS.map((c) => [c.name]))('%s refuses an unknown option by name', (name) => {
    expect(usageError([name, '--no-such-option'])).toBe("unknown option '--no-such-option'");
  });

  it('--help wins over missing options, so help always works', () => {
    expect(parseCommandLine(['backup', '--help']).kind).toBe('help');
    expect(parseCommandLine(['device', 'add', '-h']).kind).toBe('help');
  });

  it('returns the parsed values of a complete command line', () => {
    expect(
      parseCommandLine(['device', 'add', 'room-1-locker', '--config', 'hub.json', '--room', 'r1']),
    ).toEqual({
      kind: 'run',
      command: 'device',
      values: { config: 'hub.json', room: 'r1' },
      positionals: ['add', 'room-1-locker'],
    });
  });
});
