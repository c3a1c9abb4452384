/**
 * The embedded Aedes broker: the only file that touches aedes. Authentication and authorisation are its hooks, over
 * the device registry and the pure access policy. Sessions, QoS 1 queues and retained state persist in LevelDB so they
 * survive a hub crash (level-persistence.ts, our own persistence on LevelDB).
 *
 * Listeners: plain TCP and, when configured, TLS (S7). With a CA configured, TLS clients may present a client
 * certificate: if they do it must verify against the CA and name the device (CN = username); a username and password
 * are required either way. Every connection passes through MqttFrameGuard (maximum packet size, garbage dropped).
 * Before any of that, each listener caps its open connections in total and per address (hub/net/connection-gate.ts),
 * and a socket that has not finished its TLS handshake or sent CONNECT within a few seconds is closed.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Duplex, pipeline } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { Level } from 'level';
import { type SnapshotSource, snapshotLevel } from '../db/level-snapshot.js';
import type { LogFault } from '../db/log-fault.js';
import type { AuthResult } from '../devices/device-admin.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import { parseEnrolPassword } from '../devices/enrolment.js';
import type { Logger } from '../log.js';
import type { RejectCounter } from '../metrics/reject-counter.js';
import { gateConnections } from '../net/connection-gate.js';
import { mayForward, mayPublish, maySubscribe, type Principal } from './access-policy.js';
import { CredentialEpochs } from './credential-epochs.js';
import { FrameError, MqttFrameGuard } from './frame-guard.js';
import { LevelPersistence } from './level-persistence.js';
import type { MonitorAccounts } from './monitor-accounts.js';
import { type SubscribeBudget, subscribeBudgetFor } from './subscribe-budget.js';

export interface DevicePublish {
  principal: Extract<Principal, { kind: 'device' }>;
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: 0 | 1 | 2;
}

export interface BrokerOptions {
  dataDir: string;
  host: string;
  /** Plain MQTT port; absent: no plain listener (TLS only, S7). */
  port?: number;
  registry: DeviceRegistry;
  rejects: RejectCounter;
  log: Logger;
  /**
   * Called for every authorised device publish before the broker acknowledges it (durable ingest). Resolves true when
   * stored, false when rejected as bad input; rejects when storage failed.
   */
  onDevicePublish: (message: DevicePublish) => Promise<boolean>;
  onDeviceConnection?: (principal: Principal, connected: boolean) => void;
  /** MQTT over TLS (S7): a second listener. */
  tls?: { port: number; cert: string; key: string; ca?: string };
  /** Read-only monitor accounts (S5), checked before the device registry. */
  monitors?: MonitorAccounts;
  /** Enrolment (S4): a device presenting `enrol:<token>:<secret>` as its password. Absent: refused. */
  enrol?: (id: string, token: string, secret: string) => Promise<AuthResult>;
  /** Largest MQTT packet accepted, header included; larger ones drop the connection. Default 64 KiB. */
  maxPacketBytes?: number;
  /** A connection that has not sent CONNECT by then is dropped. Default 5 s. */
  connectTimeoutMs?: number;
  /** A TLS handshake not finished by then is abandoned (Node's own default is 120 s). Default 5 s. */
  tlsHandshakeTimeoutMs?: number;
  /** Caps on open connections per listener, in total and from one address; defaults 10,000 and 100. */
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
}

export interface RunningBroker {
  /** The plain listener's port; undefined when plain MQTT is off. */
  port: number | undefined;
  /** The TLS listener's port, when configured. */
  tlsPort: number | undefined;
  publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /**
   * The device's credentials were revoked or replaced: closes its connection at once, and every connection
   * authenticated before now as soon as aedes registers it or it publishes (credential-epochs.ts).
   */
  disconnect(clientId: string): void;
  /** Retained messages whose topic matches an MQTT filter (a scan of the retained store: not for hot paths). */
  retained(filter: string): Promise<{ topic: string; payload: Buffer }[]>;
  /** Whether a client's current connection resumed its stored session (CONNACK session present). */
  sessionResumed(clientId: string): boolean;
  connectedClients(): number;
  /** D3: a consistent copy of the broker's persistence (sessions, queues, retained) into a new LevelDB at `dir`. */
  snapshotTo(dir: string, progress?: (entries: number) => void): Promise<number>;
  /** The persistence's refusal of writes after a failed one (hub/db/log-fault.ts). */
  logFault(): Readonly<LogFault>;
  close(): Promise<void>;
}

const principals = new WeakMap<Client, Principal>();
/** What each connection has subscribed so far, against its allowance (subscribe-budget.ts). */
const subscribeBudgets = new WeakMap<Client, SubscribeBudget>();
/** Each connection's frame guard, told as each of its publishes is handled (the receive maximum, frame-guard.ts). */
const guards = new WeakMap<object, MqttFrameGuard>();
/**
 * PUBLISH packets of one connection parsed ahead of the hub, at most: enough to keep a device's share of a group
 * commit full (ingest keeps 16 of a device's events on their way to disk, hub/ingest/durable-writes.ts) and the next
 * ones checked, while the rest wait in the kernel.
 */
const MAX_PUBLISHES_AHEAD = 32;

/** What the TLS handshake established about a connection's client certificate. */
interface PeerCert {
  presented: boolean;
  authorized: boolean;
  commonName?: string;
}
const peerCerts = new WeakMap<object, PeerCert>();

/**
 * Counts a device's handled publish as a sign of life. aedes refreshes a client's keepalive only as it parses a packet,
 * and it parses none of a client's later packets until those it holds are handled: a device that resends a journal of
 * hundreds of events at once (as every device does after an outage) waits behind its own backlog, not idle. Without
 * this its keepalive (1.5 × its interval, 15 s for the firmware) lapsed mid-backlog, aedes dropped it, and it resent
 * everything unacknowledged: 233k duplicates and as many dropped connections in the bench's 3,000 × 200 resend
 * (bench/RESULTS.md, f). A connection whose backlog is done still lapses as before, so a half-open socket is dropped.
 */
function keptAlive(client: Client): void {
  (client as unknown as { _keepaliveTimer?: NodeJS.Timeout | null })._keepaliveTimer?.refresh();
}

function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const { registry, rejects, log } = options;
  const dir = join(options.dataDir, 'broker');
  mkdirSync(dir, { recursive: true });
  const level = new Level(dir);
  await level.open();
  const persistence = new LevelPersistence(level, {
    onLogFault: ({ refusing, lastError }) => {
      if (refusing)
        log.error({ err: lastError }, 'broker database write failed: refusing writes until it is reopened');
      else log.warn('broker database reopened after a failed write: writes accepted again');
    },
  });

  const epochs = new CredentialEpochs();
  /** The client's principal, unless its device's credentials changed since it authenticated: then it is closed. */
  const currentPrincipal = (client: Client): Principal | undefined => {
    const principal = principals.get(client);
    if (!principal || !epochs.isStale(client)) return principal;
    // Forgotten first, so nothing still in the pipeline from this client (its will included) is authorised (S4).
    principals.delete(client);
    rejects.add('auth: credentials changed after authentication');
    log.warn({ device: client.id }, 'connection closed: device revoked or re-keyed while it connected');
    client.close();
    return undefined;
  };

  const broker = await Aedes.createBroker({
    persistence,
    // A device id is a slug of at most 48 characters; refuse anything longer before it reaches our hooks.
    maxClientsIdLength: 48,
    maxTopicLevels: 10,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    authenticate(client, username, password, done) {
      const secret = password?.toString('utf8') ?? '';
      if (!username || !secret) {
        rejects.add('auth: anonymous');
        return done(authError('anonymous connections are refused', 4), false);
      }
      if (username !== client.id) {
        rejects.add('auth: client id differs from username');
        return done(authError('client id must equal the device username', 5), false);
      }
      const peer = peerCerts.get(client.conn);
      if (peer?.presented && (!peer.authorized || peer.commonName !== username)) {
        rejects.add('auth: client certificate not valid for this device');
        log.warn({ device: username }, 'connection refused: client certificate');
        return done(authError('client certificate not valid for this device', 5), false);
      }
      if (options.monitors?.has(username)) {
        const principal = options.monitors.authenticate(username, secret);
        if (!principal) {
          rejects.add('auth: wrong monitor secret');
          log.warn({ monitor: username }, 'connection refused');
          return done(authError('bad username or password', 4), false);
        }
        principals.set(client, principal);
        log.info({ monitor: username }, 'monitor connected');
        return done(null, true);
      }
      const epoch = epochs.current(username);
      const enrolment = parseEnrolPassword(secret);
      const check: Promise<AuthResult> = enrolment
        ? options.enrol
          ? options.enrol(username, enrolment.token, enrolment.secret)
          : Promise.resolve({ ok: false, reason: 'enrolment disabled' })
        : registry.authenticate(username, secret);
      check.then(
        (result) => {
          if (!result.ok) {
            rejects.add(`auth: ${result.reason}`);
            log.warn({ device: username, reason: result.reason }, 'connection refused');
            return done(authError('bad username or password', 4), false);
          }
          if (result.principal.kind === 'pending') {
            // S4: a pending device is never let in, so nothing it sends (will included) can reach ingest.
            rejects.add('auth: awaiting approval');
            log.info({ device: username }, 'connection refused: device awaiting approval');
            return done(authError('device awaiting approval', 5), false);
          }
          if (epochs.current(username) !== epoch) {
            // Revoked or re-keyed while the check ran: the record it read may be the one replaced.
            rejects.add('auth: credentials changed during authentication');
            log.warn(
              { device: username },
              'connection refused: device revoked or re-keyed while it connected',
            );
            return done(authError('bad username or password', 4), false);
          }
          principals.set(client, result.principal);
          epochs.grant(client, username, epoch);
          done(null, true);
        },
        (error) => {
          log.error({ err: error }, 'authentication failed');
          done(authError('authentication unavailable', 5), false);
        },
      );
    },
    // Ingest runs here, not in `published`: aedes 1.x writes a QoS 1 PUBACK *before* it calls `published`, so only
    // this hook can hold the acknowledgement until the event is on disk. A storage failure drops the connection
    // without a PUBACK, and the device resends from its journal; a rejected payload is counted and goes no further.
    authorizePublish(client, packet, handled) {
      const guard = client && guards.get(client.conn);
      // Every publish ends here, handled or refused: its place in the receive maximum is freed, and a handled one is a
      // sign of life for the connection's keepalive.
      const done = (error: Error | null) => {
        guard?.release();
        if (!error && client) keptAlive(client);
        handled(error);
      };
      const principal = client && currentPrincipal(client);
      if (!principal) return done(new Error('not authenticated'));
      const decision = mayPublish(principal, packet.topic);
      if (!decision.allow) {
        rejects.add(`publish: ${decision.reason}`);
        log.warn({ client: client.id, topic: packet.topic, reason: decision.reason }, 'publish refused');
        return done(new Error(decision.reason));
      }
      if (principal.kind !== 'device') return done(null);
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      options
        .onDevicePublish({ principal, topic: packet.topic, payload, retain: packet.retain, qos: packet.qos })
        .then(
          (accepted) => {
            // A rejected message must not become retained state for anyone else to read.
            if (!accepted) packet.retain = false;
            done(null);
          },
          (error: Error) => {
            log.error({ err: error, topic: packet.topic }, 'ingest failed; withholding the acknowledgement');
            done(error);
          },
        );
    },
    // Called for every message handed to every subscriber: only monitors are ever held back (a map lookup for others).
    authorizeForward(client, packet) {
      const principal = principals.get(client);
      if (principal?.kind !== 'service' || mayForward(principal, packet.topic).allow) return packet;
      return null;
    },
    authorizeSubscribe(client, subscription, done) {
      // aedes goes on through every filter of a SUBSCRIBE after its client is closed: those cost nothing more here.
      if (client.closed) return done(null, null);
      const principal = currentPrincipal(client);
      if (!principal) {
        rejects.add('subscribe: no principal');
        return done(null, null);
      }
      const decision = maySubscribe(principal, subscription.topic);
      let budget = subscribeBudgets.get(client);
      if (!budget) {
        budget = subscribeBudgetFor(principal);
        subscribeBudgets.set(client, budget);
      }
      const overspent = budget.spend(decision.allow);
      if (overspent) {
        rejects.add('subscribe: too many filters, connection dropped');
        log.warn({ client: client.id, reason: overspent }, 'connection dropped: subscribe abuse');
        client.close();
        return done(null, null);
      }
      if (!decision.allow) {
        rejects.add(`subscribe: ${decision.reason}`);
        // Logged once per connection; the rest are counted, and a connection that goes on is dropped (above).
        if (budget.firstRefusal())
          log.warn(
            { client: client.id, filter: subscription.topic, reason: decision.reason },
            'subscribe refused',
          );
        return done(null, null); // SUBACK 0x80 for this filter, connection stays
      }
      done(null, subscription);
    },
  });

  // Which connections resumed a stored session: their queued QoS 1 messages are delivered without a resend. Keyed by
  // connection, not client id, so a taken-over connection's late disconnect cannot clear its successor's flag.
  const resumed = new WeakMap<Client, boolean>();
  broker.on('connackSent', (packet, client) => {
    resumed.set(client, packet.sessionPresent === true);
  });
  broker.on('client', (client) => {
    // Registered at last: a revocation or new secret committed since its CONNECT was checked closes it here.
    const principal = currentPrincipal(client);
    if (principal) options.onDeviceConnection?.(principal, true);
  });
  broker.on('clientDisconnect', (client) => {
    const principal = principals.get(client);
    if (principal) options.onDeviceConnection?.(principal, false);
  });
  broker.on('clientError', (client, error) => {
    // The stream pair around a connection aborts as it is torn down after an ordinary close (a device's DISCONNECT
    // included): not a client's fault, so not counted among rejects.
    if ((error as { code?: string }).code === 'ABORT_ERR') {
      log.debug({ client: client?.id }, 'connection closed');
      return;
    }
    rejects.add('mqtt: client error');
    log.debug({ client: client?.id, err: error.message }, 'client error');
  });
  broker.on('connectionError', (_client, error) => {
    rejects.add('mqtt: connection error');
    log.debug({ err: error.message }, 'connection error');
  });

  const maxPacketBytes = options.maxPacketBytes ?? 64 * 1024;
  /** Hands a socket to aedes behind the frame guard; a guard error drops only this connection, counted. */
  const accept = (socket: Socket, peer?: PeerCert) => {
    socket.on('error', () => {}); // a reset socket is the client's problem; aedes reports it via clientError
    // Small MQTT packets written back to back (PUBACK, then the ReportAck) must not wait for Nagle + the peer's
    // delayed ACK: that alone added ~40 ms to every report's round trip (bench/RESULTS.md, scenario d).
    socket.setNoDelay(true);
    // Replies to what one read brought in (a PUBACK per QoS 1 publish) leave in one writev instead of a syscall
    // each: the socket is corked while the loop turn that handles the read runs (bench/RESULTS.md, broker).
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };
    socket.on('data', () => {
      if (corked) return;
      corked = true;
      socket.cork();
      setImmediate(uncork);
    });
    const guard = new MqttFrameGuard(maxPacketBytes, MAX_PUBLISHES_AHEAD);
    const conn = Duplex.from({ readable: guard, writable: socket });
    guards.set(conn, guard);
    // Replies that are not answers to a read (PUBACKs after a group commit's fsync, hundreds at once) leave in one
    // writev too: mqtt-packet corks conn per packet and uncorks it on the next tick, but conn (Duplex.from) has no
    // writev, so it hands its buffered packets to the socket one write() each. The socket is corked around that hand-over.
    const flushConn = conn.uncork.bind(conn);
    conn.uncork = () => {
      socket.cork();
      flushConn();
      socket.uncork();
    };
    conn.on('close', () => socket.destroy());
    pipeline(socket, guard, (error) => {
      if (error instanceof FrameError) {
        rejects.add(`mqtt: ${error.code}`);
        log.warn({ remote: socket.remoteAddress, reason: error.message }, 'connection dropped');
      }
      if (error) {
        socket.destroy();
        conn.destroy();
      }
    });
    if (peer) peerCerts.set(conn, peer);
    broker.handle(conn as never);
  };

  // Before any byte of MQTT or TLS: a peer holding sockets open uses up its own address's share, not the school's.
  const gate = (listener: Server, name: 'tcp' | 'tls') =>
    gateConnections(listener, {
      maxTotal: options.maxConnections ?? 10_000,
      maxPerAddress: options.maxConnectionsPerAddress ?? 100,
      onRefused: (cap, remote) => {
        rejects.add(`${name}: connection cap (${cap})`);
        log.debug({ remote, cap }, 'connection refused: cap reached');
      },
    });

  let server: Server | undefined;
  let port: number | undefined;
  if (options.port !== undefined) {
    const plain: Server = createServer();
    gate(plain, 'tcp');
    plain.on('connection', (socket: Socket) => {
      if (!socket.destroyed) accept(socket);
    });
    await listen(plain, options.port, options.host);
    server = plain;
    port = (plain.address() as AddressInfo).port;
    log.info({ host: options.host, port }, 'MQTT broker listening');
  }

  let tlsServer: Server | undefined;
  if (options.tls) {
    const ca = options.tls.ca ? readFileSync(options.tls.ca) : undefined;
    tlsServer = createTlsServer(
      {
        cert: readFileSync(options.tls.cert),
        key: readFileSync(options.tls.key),
        minVersion: 'TLSv1.2',
        handshakeTimeout: options.tlsHandshakeTimeoutMs ?? 5_000,
        // Client certificates are optional (verified in authenticate when presented); passwords are always required.
        ...(ca ? { ca, requestCert: true, rejectUnauthorized: false } : {}),
      },
      (socket: TLSSocket) => {
        const cert = ca ? socket.getPeerCertificate() : undefined;
        const presented = Boolean(cert && Object.keys(cert).length > 0);
        accept(socket, {
          presented,
          authorized: socket.authorized,
          ...(presented && typeof cert?.subject?.CN === 'string' ? { commonName: cert.subject.CN } : {}),
        });
      },
    );
    gate(tlsServer, 'tls');
    tlsServer.on('tlsClientError', (error, socket) => {
      // With a listener here Node leaves the socket open (its default, without one, is to destroy it): a handshake
      // that timed out or failed would otherwise hold its socket until the peer goes away.
      socket.destroy();
      rejects.add(
        error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'tls: handshake timeout' : 'tls: handshake failed',
      );
      log.debug({ err: error.message }, 'TLS handshake failed');
    });
    await listen(tlsServer, options.tls.port, options.host);
    log.info(
      { host: options.host, port: (tlsServer.address() as AddressInfo).port },
      'MQTT over TLS listening',
    );
  }

  const clients = (broker as unknown as { clients: Record<string, Client> }).clients;

  return {
    port,
    tlsPort: tlsServer ? (tlsServer.address() as AddressInfo).port : undefined,
    publish(topic, payload, { qos, retain }) {
      return new Promise((resolve, reject) =>
        broker.publish(
          { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: false },
          (error?: Error | null) => (error ? reject(error) : resolve()),
        ),
      );
    },
    disconnect(clientId) {
      epochs.advance(clientId);
      const client = clients[clientId];
      if (!client) return;
      // Forget the principal first, so nothing still in the pipeline from this client is authorised (S4).
      const principal = principals.get(client);
      principals.delete(client);
      client.close();
      if (principal) options.onDeviceConnection?.(principal, false);
    },
    async retained(filter) {
      const found: { topic: string; payload: Buffer }[] = [];
      for await (const packet of persistence.createRetainedStream(filter)) {
        found.push({ topic: packet.topic, payload: Buffer.from(packet.payload) });
      }
      return found;
    },
    sessionResumed: (clientId) => {
      const client = clients[clientId];
      return client !== undefined && resumed.get(client) === true;
    },
    connectedClients: () => broker.connectedClients,
    snapshotTo: (target, progress) =>
      snapshotLevel(persistence.db as unknown as SnapshotSource, target, progress),
    logFault: () => persistence.logFault,
    async close() {
      const serverClosed = [...(server ? [server] : []), ...(tlsServer ? [tlsServer] : [])].map(
        (s) => new Promise<void>((resolve) => s.close(() => resolve())),
      );
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await Promise.all(serverClosed);
      // Not level.close() alone: closing the clients leaves will and retained writes queued for the next loop turn
      // (coalesced-writes.ts); destroy() writes them first, so a shutdown keeps what the last connections changed.
      await persistence.destroy();
    },
  };
}

/**
 * Connections the kernel completes and holds for the hub to accept. After a hub restart every device reconnects within
 * one retry period while the hub is still starting; with Node's default of 511 the rest of the SYNs were dropped and
 * retried a second or more later. Linux caps it at net.core.somaxconn (4096 on current kernels).
 */
const LISTEN_BACKLOG = 4096;

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => resolve());
  });
}
