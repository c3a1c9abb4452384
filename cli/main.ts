#!/usr/bin/env node
/** The `phones-away` command: one subcommand per program. */
import { parseArgs } from 'node:util';

const USAGE = `Usage: phones-away <command> [options]

Commands:
  hub --config <hub.json>          run the school hub (broker, policy, incident log, dashboard)
  device --config <device.json>    run a classroom device program (locker, signage, report button)
  demo [--data-dir <dir>] [--http-port <n>]
                                   run everything on this machine with simulated classrooms
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
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
