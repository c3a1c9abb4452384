/**
 * Caps on a listening server's connections, applied to the raw TCP socket before any TLS handshake or protocol byte:
 * at most `maxTotal` open at once, and at most `maxPerAddress` from one IP address. A socket over either cap is
 * destroyed at once and counted, so a peer holding thousands of half-open sockets uses up its own share, not the
 * school's. Used by the MQTT listeners and the HTTP server alike.
 */
import type { Server, Socket } from 'node:net';

export interface GateOptions {
  maxTotal: number;
  maxPerAddress: number;
  /** Called for each refused socket with the cap it hit. */
  onRefused: (reason: 'total' | 'per-address', remote: string) => void;
}

export interface ConnectionGate {
  /** Open sockets from one address (tests and diagnostics). */
  openFrom(address: string): number;
  open(): number;
}

/**
 * Installs the gate as the server's first 'connection' listener. Listeners added later see a socket the gate
 * refused as already destroyed and must skip it (check `socket.destroyed`).
 */
export function gateConnections(server: Server, options: GateOptions): ConnectionGate {
  const perAddress = new Map<string, number>();
  let open = 0;
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const fromHere = perAddress.get(address) ?? 0;
    const over =
      open >= options.maxTotal ? 'total' : fromHere >= options.maxPerAddress ? 'per-address' : null;
    if (over) {
      options.onRefused(over, address);
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    open += 1;
    perAddress.set(address, fromHere + 1);
    socket.once('close', () => {
      open -= 1;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });
  return { openFrom: (address) => perAddress.get(address) ?? 0, open: () => open };
}
