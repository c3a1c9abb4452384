#!/usr/bin/env node
/** The `phones-away` command: one subcommand per program. */
import { parseArgs } from 'node:util';

const USAGE = `Usage: phones-away <command> [options]

Commands:
  hub --config <hub.json>          run the school hub (broker, policy, incident log, dashboard)
  device --config <device.json>    run a classroom device program (locker, signage, report button)
  demo [--data-dir <dir>] [--http-port <n>]
                                   run everything on this machine with simulated classrooms
  certs --dir <dir> --hub-host <name> [--device <id> ...]
                                   make the school's CA, the hub's TLS certificate and device certificates
  device list|add|approve|revoke|rotate|token --config <hub.json> [<id>] [--room <room>] ...
                                   manage devices and enrolment tokens (hub stopped; else use the dashboard)
  user add|passwd|role|disable|enable|reset-totp|list --data-dir <dir> [<username>] [--role <r1,r2>]
                                   manage staff accounts (hub stopped; else use the dashboard)
  audit verify --data-dir <dir> [--against <entries>:<hash>]
                                   check the audit chain, against a fingerprint from an anchor email (hub stopped)
  backup --data-dir <dir> --out <file.tar.gz> [--config <hub.json>]
  restore --data-dir <dir> --from <file.tar.gz>
                                   back up / restore hub database, configuration and InfluxDB (hub stopped)
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // Everything these commands write (databases, keys, certificates, device secrets, backups) is for this user only.
  process.umask(0o077);
  // Admin subcommands parse their own options (see cli/admin.ts).
  if (command === 'certs') return (await import('./admin.js')).runCerts(rest);
  if (command === 'user') return (await import('./user.js')).runUser(rest);
  if (command === 'audit') {
    if (!(await (await import('./audit.js')).runAudit(rest))) process.exitCode = 1;
    return;
  }
  if (command === 'backup' || command === 'restore')
    return (await import('./backup.js')).runBackup(command, rest);
  if (command === 'device' && rest[0] && !rest[0].startsWith('-')) {
    return (await import('./admin.js')).runDeviceAdmin(rest[0], rest.slice(1));
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      'http-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (!command || values.help || command === 'help') {
    console.log(USAGE);
    return;
  }
  switch (command) {
    case 'hub': {
      if (!values.config) throw new Error('hub needs --config <hub.json>');
      const { runHub } = await import('./run-hub.js');
      return runHub(values.config);
    }
    case 'device': {
      if (!values.config) throw new Error('device needs --config <device.json>');
      const { runDevice } = await import('../firmware/main.js');
      await runDevice(values.config);
      return;
    }
    case 'demo': {
      const { runDemo } = await import('./demo.js');
      return runDemo({
        dataDir: values['data-dir'] ?? '.data/demo',
        httpPort: values['http-port'] ? Number(values['http-port']) : 0,
      });
    }
    default:
      throw new Error(`unknown command '${command}'\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`phones-away: ${error.message}`);
  process.exit(1);
});
