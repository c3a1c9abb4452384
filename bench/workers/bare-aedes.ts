/**
 * aedes on its own, as a benchmark peer (forked by bench/run.ts): the same aedes version the hub embeds, with its
 * default in-memory persistence, no authentication and no ingest. It measures the ceiling of the broker the hub is
 * built on in this machine, beside Mosquitto's: what the hub adds (checks, chain, fsynced store) is the difference.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ event: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'exit') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
