/** S7: which MQTT listeners a hub config opens. With TLS, plain MQTT only when asked for. */
import { describe, expect, it } from 'vitest';
import { mqttListeners } from '../../../../hub/broker/listeners.js';

const tls = { port: 8883, cert: 'hub.crt', key: 'hub.key' };

describe('mqttListeners (S7)', () => {
  it('S7: without TLS, the plain port is required and used', () => {
    expect(mqttListeners({ host: '0.0.0.0', port: 1883 })).toEqual({
      plainPort: 1883,
      warnings: [],
      problems: [],
    });
    expect(mqttListeners({ host: '0.0.0.0' }).problems).toEqual([
      'mqtt.port: required when mqtt.tls is not set',
    ]);
    expect(mqttListeners({ host: '0.0.0.0', port: 1883, plain: false }).problems).toHaveLength(1);
  });

  it('S7: with TLS, plain is off, even when a port is named (with a warning saying how to keep it)', () => {
    expect(mqttListeners({ host: '0.0.0.0', tls })).toEqual({ tls, warnings: [], problems: [] });
    const named = mqttListeners({ host: '0.0.0.0', port: 1883, tls });
    expect(named.plainPort).toBeUndefined();
    expect(named.warnings[0]).toMatch(/plain MQTT on port 1883 is off .*mqtt\.plain/);
  });

  it('S7: with TLS and plain: true, both listen; the port is then required', () => {
    expect(mqttListeners({ host: '127.0.0.1', port: 1883, plain: true, tls })).toEqual({
      plainPort: 1883,
      tls,
      warnings: [],
      problems: [],
    });
    expect(mqttListeners({ host: '127.0.0.1', plain: true, tls }).problems).toEqual([
      'mqtt.port: required when mqtt.plain is true',
    ]);
  });
});
