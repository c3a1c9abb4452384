/**
 * The embedded Aedes broker: the only file that touches aedes. Authentication and authorisation are its hooks, over
 * the device registry and the pure access policy. Sessions, QoS 1 queues and retained state persist in LevelDB so they
 * survive a hub crash (aedes-persistence-level).
 */
import { mkdirSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client } from 'aedes';
import aedesPersistenceLevel from 'aedes-persistence-level';
import { Level } from 'level';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { Logger } from '../log.js';
import type { RejectCounter } from '../metrics/reject-counter.js';
import { mayPublish, maySubscribe, type Principal } from './access-policy.js';

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
  port: number;
  registry: DeviceRegistry;
  rejects: RejectCounter;
  log: Logger;
  /** Called for every authorised device publish before the broker acknowledges it; awaited (durable ingest). */
  onDevicePublish: (message: DevicePublish) => Promise<void>;
  onDeviceConnection?: (principal: Principal, connected: boolean) => void;
}

export interface RunningBroker {
  port: number;
  publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /** Disconnects a device at once (revocation). */
  disconnect(clientId: string): void;
  connectedClients(): number;
  close(): Promise<void>;
}

const principals = new WeakMap<Client, Principal>();

function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const { registry, rejects, log } = options;
  const dir = join(options.dataDir, 'broker');
  mkdirSync(dir, { recursive: true });
  const level = new Level(dir);
  await level.open();
  const persistence = aedesPersistenceLevel(level);

  const broker = await Aedes.createBroker({
    persistence,
    // A device id is a slug of at most 48 characters; refuse anything longer before it reaches our hooks.
    maxClientsIdLength: 48,
    maxTopicLevels: 10,
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
      registry.authenticate(username, secret).then(
        (result) => {
          if (!result.ok) {
            rejects.add(`auth: ${result.reason}`);
            log.warn({ device: username, reason: result.reason }, 'connection refused');
            return done(authError('bad username or password', 4), false);
          }
          principals.set(client, result.principal);
          done(null, true);
        },
        (error) => {
          log.error({ err: error }, 'authentication failed');
          done(authError('authentication unavailable', 5), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      const principal = client && principals.get(client);
      if (!principal) return done(new Error('not authenticated'));
      const decision = mayPublish(principal, packet.topic);
      if (!decision.allow) {
        rejects.add(`publish: ${decision.reason}`);
        log.warn({ client: client.id, topic: packet.topic, reason: decision.reason }, 'publish refused');
        return done(new Error(decision.reason));
      }
      done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      const principal = principals.get(client);
      const decision = principal
        ? maySubscribe(principal, subscription.topic)
        : { allow: false, reason: 'no principal' };
      if (!decision.allow) {
        rejects.add(`subscribe: ${decision.reason}`);
        log.warn(
          { client: client.id, filter: subscription.topic, reason: decision.reason },
          'subscribe refused',
        );
        return done(null, null); // SUBACK 0x80 for this filter, connection stays
      }
      done(null, subscription);
    },
    published(packet: AedesPublishPacket, client: Client | null, done) {
      const principal = client ? principals.get(client) : undefined;
      if (!client || principal?.kind !== 'device' || packet.topic.startsWith('$SYS')) return done(null);
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      options
        .onDevicePublish({ principal, topic: packet.topic, payload, retain: packet.retain, qos: packet.qos })
        .then(
          () => done(null),
          (error) => {
            // Never fail the client's connection for an ingest error: the device keeps its report until the hub's
            // application-level ack, so it will be resent.
            log.error({ err: error, topic: packet.topic }, 'ingest failed');
            done(null);
          },
        );
    },
  });

  broker.on('client', (client) => {
    const principal = principals.get(client);
    if (principal) options.onDeviceConnection?.(principal, true);
  });
  broker.on('clientDisconnect', (client) => {
    const principal = principals.get(client);
    if (principal) options.onDeviceConnection?.(principal, false);
  });
  broker.on('clientError', (client, error) => {
    rejects.add('mqtt: client error');
    log.debug({ client: client?.id, err: error.message }, 'client error');
  });
  broker.on('connectionError', (_client, error) => {
    rejects.add('mqtt: connection error');
    log.debug({ err: error.message }, 'connection error');
  });

  const server: Server = createServer((socket) => {
    socket.on('error', () => {}); // a reset socket is the client's problem; aedes reports it via clientError
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: options.host, port }, 'MQTT broker listening');

  const clients = (broker as unknown as { clients: Record<string, Client> }).clients;

  return {
    port,
    publish(topic, payload, { qos, retain }) {
      return new Promise((resolve, reject) =>
        broker.publish(
          { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: false },
          (error?: Error | null) => (error ? reject(error) : resolve()),
        ),
      );
    },
    disconnect(clientId) {
      clients[clientId]?.close();
    },
    connectedClients: () => broker.connectedClients,
    async close() {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await serverClosed;
      await level.close();
    },
  };
}
