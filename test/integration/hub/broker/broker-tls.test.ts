/**
 * S7: MQTT over TLS with the school's own CA made by `phones-away certs` (real openssl, real aedes, real MQTT.js).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificateFiles, makeCertificates } from '../../../../hub/devices/certificates.js';
import { connectClient, type HubFixture, startTestHub } from '../../../support/hub-fixture.js';
import { freePorts } from '../../../support/hub-process.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'correct-horse-battery-staple-1';

describe('MQTT over TLS (S7)', () => {
  let dir: string;
  let certs: CertificateFiles;
  let fixture: HubFixture;
  let tlsPort: number;
  /** The port plain MQTT would use: named in the config, and must not be listening. */
  let plainPort: number;

  const mqtts = (options: Parameters<typeof connectClient>[1]) =>
    connectClient(tlsPort, {
      protocol: 'mqtts',
      host: 'localhost',
      servername: 'localhost',
      clientId: address.device,
      username: address.device,
      password: secret,
      ...options,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-certs-'));
    certs = await makeCertificates({
      dir: join(dir, 'pki'),
      hubHost: 'localhost',
      devices: ['room-1-locker', 'room-2-locker'],
    });
    [plainPort] = (await freePorts(1)) as [number];
    // An upgraded config still names the plain port beside TLS: plain stays off unless `plain: true`.
    fixture = await startTestHub({
      config: {
        mqtt: { host: '127.0.0.1', port: plainPort, tls: { port: 0, ...certs.hub, ca: certs.ca.cert } },
      },
    });
    tlsPort = fixture.hub.mqttTlsPort as number;
    await fixture.hub.registry.provision({
      id: address.device,
      address,
      secret,
      lockerMode: 'lesson',
      now: Date.now(),
    });
  });

  afterAll(async () => {
    await fixture?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('S7: certs makes a CA, a hub certificate and device certificates, keys readable by the owner only', () => {
    for (const key of [certs.ca.key, certs.hub.key, ...certs.devices.map((d) => d.key)]) {
      expect(statSync(key).mode & 0o777).toBe(0o600);
    }
    expect(certs.devices.map((d) => d.id)).toEqual(['room-1-locker', 'room-2-locker']);
  });

  it('reuses the existing CA when run again (devices already issued stay valid)', async () => {
    const before = readFileSync(certs.ca.cert, 'utf8');
    const again = await makeCertificates({
      dir: join(dir, 'pki'),
      hubHost: 'localhost',
      devices: ['room-3-locker'],
    });
    expect(again.ca.created).toBe(false);
    expect(readFileSync(again.ca.cert, 'utf8')).toBe(before);
  });

  it('S7: a device that trusts the school CA connects over mqtts', async () => {
    const client = await mqtts({ ca: readFileSync(certs.ca.cert) });
    expect(client.connected).toBe(true);
    client.end(true);
  });

  it('S7: a client that does not trust the school CA fails the handshake', async () => {
    await expect(mqtts({})).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it('S7: the TLS listener still requires the device password', async () => {
    await expect(mqtts({ ca: readFileSync(certs.ca.cert), password: 'wrong-secret' })).rejects.toThrow(
      /Bad username or password/i,
    );
  });

  it('S1: a client certificate is accepted for its own device and refused for another', async () => {
    const own = certs.devices[0] as CertificateFiles['devices'][number];
    const other = certs.devices[1] as CertificateFiles['devices'][number];
    const ca = readFileSync(certs.ca.cert);
    const client = await mqtts({ ca, cert: readFileSync(own.cert), key: readFileSync(own.key) });
    expect(client.connected).toBe(true);
    client.end(true);
    await expect(mqtts({ ca, cert: readFileSync(other.cert), key: readFileSync(other.key) })).rejects.toThrow(
      /Not authorized/i,
    );
    expect(fixture.hub.rejects.snapshot()['auth: client certificate not valid for this device']).toBe(1);
  });

  it('S7: with TLS configured there is no plain MQTT listener: a device secret cannot be sent in clear', async () => {
    expect(fixture.hub.mqttPort).toBe(0);
    await expect(
      connectClient(plainPort, { clientId: address.device, username: address.device, password: secret }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it('S7: plain MQTT beside TLS only when the config asks for it (plain: true)', async () => {
    const [port] = (await freePorts(1)) as [number];
    const both = await startTestHub({
      config: {
        mqtt: { host: '127.0.0.1', port, plain: true, tls: { port: 0, ...certs.hub, ca: certs.ca.cert } },
      },
    });
    try {
      expect(both.hub.mqttPort).toBe(port);
      await both.hub.registry.provision({
        id: address.device,
        address,
        secret,
        lockerMode: 'lesson',
        now: Date.now(),
      });
      const client = await connectClient(port, {
        clientId: address.device,
        username: address.device,
        password: secret,
      });
      expect(client.connected).toBe(true);
      client.end(true);
    } finally {
      await both.dispose();
    }
  });

  it('refuses a bad --hub-host before running openssl', async () => {
    await expect(makeCertificates({ dir: join(dir, 'x'), hubHost: 'bad host/../' })).rejects.toThrow(
      /--hub-host/,
    );
  });
});
