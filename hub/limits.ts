/**
 * The hub's limits with their defaults filled in (schema: LimitsConfig in schemas/config.ts). Pure.
 *
 * Why these defaults: a school has at most a few thousand devices, each holding one MQTT connection, so 10,000 per
 * listener leaves room for a reconnect storm; a classroom Pi needs one connection, so 100 per address only bites an
 * attacker (or a NAT, which must raise it). A device on a LAN sends CONNECT within milliseconds of the TCP handshake
 * and finishes TLS in well under a second on a Pi, so 5 s is generous for them and short for a socket held open to
 * use up the hub. The report rate: a pupil presses once; a class in distress may press a handful of times a minute.
 */
import type { LimitsConfig } from '../schemas/config.js';

export interface Limits {
  mqtt: {
    maxConnections: number;
    maxConnectionsPerAddress: number;
    connectTimeoutMs: number;
    tlsHandshakeTimeoutMs: number;
  };
  http: {
    maxConnections: number;
    maxConnectionsPerAddress: number;
    requestTimeoutMs: number;
    tlsHandshakeTimeoutMs: number;
  };
  reports: { perDevicePerMinute: number; burst: number };
}

export const DEFAULT_LIMITS: Limits = {
  mqtt: {
    maxConnections: 10_000,
    maxConnectionsPerAddress: 100,
    connectTimeoutMs: 5_000,
    tlsHandshakeTimeoutMs: 5_000,
  },
  http: {
    maxConnections: 1_000,
    maxConnectionsPerAddress: 64,
    requestTimeoutMs: 10_000,
    tlsHandshakeTimeoutMs: 5_000,
  },
  reports: { perDevicePerMinute: 6, burst: 10 },
};

export function resolveLimits(config: LimitsConfig | undefined): Limits {
  return {
    mqtt: { ...DEFAULT_LIMITS.mqtt, ...config?.mqtt },
    http: { ...DEFAULT_LIMITS.http, ...config?.http },
    reports: { ...DEFAULT_LIMITS.reports, ...config?.reports },
  };
}
