/**
 * Which MQTT listeners the hub opens (S7), from the config's mqtt section. With TLS configured, plain MQTT is off
 * unless `plain: true` asks for it: on a shared school network a plain listener carries device secrets and
 * enrolment tokens in clear. Pure: returns the listeners and any warning, or the config problems.
 */
import type { HubConfig } from '../../schemas/config.js';

export interface MqttListeners {
  /** The plain listener's port; absent when plain MQTT is off. */
  plainPort?: number;
  tls?: NonNullable<HubConfig['mqtt']['tls']>;
  warnings: string[];
  problems: string[];
}

export function mqttListeners(mqtt: HubConfig['mqtt']): MqttListeners {
  const warnings: string[] = [];
  const problems: string[] = [];
  if (!mqtt.tls) {
    if (mqtt.plain === false)
      problems.push('mqtt: plain is false and tls is not set, so no listener would open');
    if (mqtt.port === undefined) problems.push('mqtt.port: required when mqtt.tls is not set');
    return { ...(mqtt.port !== undefined ? { plainPort: mqtt.port } : {}), warnings, problems };
  }
  if (mqtt.plain === true) {
    if (mqtt.port === undefined) problems.push('mqtt.port: required when mqtt.plain is true');
    return {
      ...(mqtt.port !== undefined ? { plainPort: mqtt.port } : {}),
      tls: mqtt.tls,
      warnings,
      problems,
    };
  }
  if (mqtt.port !== undefined)
    warnings.push(
      `plain MQTT on port ${mqtt.port} is off because TLS is configured; set mqtt.plain to true to keep it`,
    );
  return { tls: mqtt.tls, warnings, problems };
}
