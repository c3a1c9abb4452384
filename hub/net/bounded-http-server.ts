/**
 * An HTTP(S) server bounded against exhaustion before authentication, for the hub's dashboard and the trust's pages
 * alike: its timeouts are set where Node reads them (at construction), so a request not received in full within
 * requestTimeout is answered 408, checked every second rather than Node's 30 s; a TLS handshake is abandoned after
 * tlsHandshakeTimeoutMs instead of Node's 120 s; a connection that sends no request within requestTimeout is dropped;
 * and the connection gate caps sockets in total and per address before any of it.
 */
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Server, Socket } from 'node:net';
import type { Limits } from '../limits.js';
import { gateConnections } from './connection-gate.js';

export interface BoundedServerOptions {
  tls?: { cert: Buffer; key: Buffer } | undefined;
  limits: Limits['http'];
  /** Told of each connection refused or dropped, with the reason as it is counted. */
  onRefused: (reason: string) => void;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export function boundedHttpServer(handler: Handler, options: BoundedServerOptions): HttpServer | HttpsServer {
  const { limits, tls } = options;
  const serverOptions = {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.requestTimeoutMs),
  };
  const server = tls
    ? createHttpsServer(
        { ...serverOptions, cert: tls.cert, key: tls.key, handshakeTimeout: limits.tlsHandshakeTimeoutMs },
        handler,
      )
    : createHttpServer(serverOptions, handler);
  gateConnections(server, {
    maxTotal: limits.maxConnections,
    maxPerAddress: limits.maxConnectionsPerAddress,
    onRefused: (cap) => options.onRefused(`http: connection cap (${cap})`),
  });
  dropIdleBeforeFirstRequest(server, tls ? 'secureConnection' : 'connection', limits.requestTimeoutMs, () =>
    options.onRefused('http: no request before the timeout'),
  );
  return server;
}

/**
 * Node times out a request once its first byte has arrived (requestTimeout, headersTimeout), but not a connection
 * that never sends one: without this, an idle socket stays open until the peer goes away. Keep-alive connections
 * idle between requests are Node's keepAliveTimeout's business.
 */
function dropIdleBeforeFirstRequest(
  server: Server,
  event: 'connection' | 'secureConnection',
  ms: number,
  onDrop: () => void,
): void {
  const served = new WeakSet<object>();
  server.on('request', (request: { socket: object }) => served.add(request.socket));
  server.on(event, (socket: Socket) => {
    if (socket.destroyed) return;
    const timer = setTimeout(() => {
      if (served.has(socket) || socket.destroyed) return;
      onDrop();
      socket.destroy();
    }, ms);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}
