#!/usr/bin/env node
/**
 * The `phones-away` command: one subcommand per program. The command line is declared and parsed in
 * `cli/commands.ts`; each program is imported only when it runs, so `--help` and usage errors are quick.
 */
import { type Parsed, parseCommandLine, UsageError } from './commands.js';

async function run(parsed: Extract<Parsed, { kind: 'run' }>): Promise<void> {
  const { command, values, positionals } = parsed;
  const str = (key: string) => values[key] as string | undefined;
  switch (command) {
    case 'hub':
      return (await import('./run-hub.js')).runHub(str('config') as string);
    case 'trust':
      return (await import('./run-trust.js')).runTrust(str('config') as string);
    case 'device': {
      const [action, id] = positionals;
      if (action) return (await import('./admin.js')).runDeviceAdmin(action, id, values);
      await (await import('../firmware/main.js')).runDevice(str('config') as string);
      return;
    }
    case 'demo': {
      const port = str('http-port');
      if (port !== undefined && !/^\d+$/.test(port))
        throw new UsageError(`--http-port must be a port number, not '${port}'`, 'demo');
      return (await import('./demo.js')).runDemo({
        dataDir: str('data-dir') ?? '.data/demo',
        httpPort: port ? Number(port) : 0,
        trust: values.trust === true,
      });
    }
    case 'certs':
      return (await import('./admin.js')).runCerts(values);
    case 'user':
      return (await import('./user.js')).runUserParsed(values, positionals);
    case 'audit':
      if (!(await (await import('./audit.js')).runAuditParsed(values))) process.exitCode = 1;
      return;
    case 'release':
      return (await import('./release.js')).runRelease(positionals, values);
    case 'backup':
    case 'restore':
      return (await import('./backup.js')).runBackupParsed(command, values);
    default:
      throw new Error(`no program for '${command}'`);
  }
}

async function main(argv: string[]): Promise<void> {
  // Everything these commands write (databases, keys, certificates, device secrets, backups) is for this user only.
  process.umask(0o077);
  const parsed = parseCommandLine(argv);
  if (parsed.kind === 'help') {
    console.log(parsed.text);
    return;
  }
  await run(parsed);
}

main(process.argv.slice(2)).catch((error: Error) => {
  if (error instanceof UsageError) {
    const help = error.command ? `phones-away ${error.command} --help` : 'phones-away --help';
    console.error(`phones-away: ${error.message}\nRun '${help}' for usage.`);
    process.exit(2);
  }
  console.error(`phones-away: ${error.message}`);
  process.exit(1);
});
