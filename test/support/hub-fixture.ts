/** Starts a real hub (real aedes on a loopback port, real private influxd, real LevelDB) in a temporary directory. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type Logger, silentLogger } from '../../hub/log.js';
import { type Hub, startHub } from '../../hub/main.js';
import type { HubConfig, SchoolModel } from '../../schemas/config.js';

export const repoRoot = join(import.meta.dirname, '..', '..');

export function demoSchool(): SchoolModel {
  return JSON.parse(readFileSync(join(repoRoot, 'config', 'school.example.json'), 'utf8')) as SchoolModel;
}

export function hubConfig(dataDir: string, overrides: Partial<HubConfig> = {}): HubConfig {
  return {
    version: 1,
    site: 'demo-school',
    dataDir,
    school: 'school.json',
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    influx: { mode: 'embedded', database: 'phones-away' },
    logLevel: 'warn',
    ...overrides,
  };
}

export interface HubFixture {
  hub: Hub;
  dataDir: string;
  /** Stops the hub; the data directory stays so a test can restart on it. */
  stop(): Promise<void>;
  /** Stops and removes the data directory. */
  dispose(): Promise<void>;
}

export async function startTestHub(
  options: {
    dataDir?: string;
    school?: SchoolModel;
    config?: Partial<HubConfig>;
    now?: () => number;
    sessionIdleMs?: number;
    /** How often device health goes to the trust's store (HubOptions.trustDevicesEveryMs). */
    trustDevicesEveryMs?: number;
    /** The file `school` was read from: edits are written back to it (HubOptions.schoolFile). */
    schoolFile?: string;
    /** The hub's logger, for a test that reads what the hub logs; silent by default. */
    log?: Logger;
  } = {},
): Promise<HubFixture> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'phones-away-hub-'));
  const hub = await startHub({
    config: hubConfig(dataDir, options.config),
    school: options.school ?? demoSchool(),
    log: options.log ?? silentLogger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.sessionIdleMs ? { sessionIdleMs: options.sessionIdleMs } : {}),
    ...(options.trustDevicesEveryMs ? { trustDevicesEveryMs: options.trustDevicesEveryMs } : {}),
    ...(options.schoolFile ? { schoolFile: options.schoolFile } : {}),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await hub.stop();
  };
  return {
    hub,
    dataDir,
    stop,
    async dispose() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Connects a raw MQTT client (as a device would) and resolves on CONNACK, or rejects with the broker's refusal. */
export function connectClient(port: number, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

export async function waitFor<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Registers an approved device and connects as it: the usual start of a test that plays a classroom device. */
/** Provisions a device at the hub, approved, in lesson mode, with `secret` as its MQTT password. */
export async function provision(
  hub: Hub,
  address: { site: string; room: string; device: string },
  secret: string,
): Promise<void> {
  await hub.registry.provision({
    id: address.device,
    address,
    secret,
    lockerMode: 'lesson',
    now: Date.now(),
  });
}

export async function provisionAndConnect(
  hub: Hub,
  address: { site: string; room: string; device: string },
  secret: string,
  options: mqtt.IClientOptions = {},
): Promise<MqttClient> {
  await provision(hub, address, secret);
  return connectClient(hub.mqttPort, {
    clientId: address.device,
    username: address.device,
    password: secret,
    ...options,
  });
}
