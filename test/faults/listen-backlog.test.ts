/**
 * The hub's listen backlog (hub/broker/broker.ts LISTEN_BACKLOG), attacked: after a hub restart every classroom
 * device reconnects within one retry period while the hub is still starting and not yet accepting. The kernel
 * completes those handshakes and holds them for the hub up to the backlog; past it, SYNs are dropped and the devices
 * wait a second or more to retry (with Node's default of 511, most of a 3,000-device storm did).
 *
 * Here the hub process is stopped (SIGSTOP: it accepts nothing, as while it starts) and 1,500 devices' TCP connections
 * arrive at once: every one must be established by the kernel, and once the hub runs again each must be served (an
 * MQTT CONNECT answered). InfluxDB is "external" at a closed port: this is about the listener.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/hub-fixture.js';
import { HubProcess } from '../support/hub-process.js';

const STORM = 1_500;

/** An MQTT 3.1.1 CONNECT with a client id and no credentials: the hub answers it with a CONNACK (refused). */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
  const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  const length = variable.length + payload.length;
  return Buffer.concat([Buffer.from([0x10, length]), variable, payload]);
}

describe('faults: a reconnect storm against a hub that is not accepting yet', () => {
  let hub: HubProcess | undefined;
  const sockets: Socket[] = [];

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    if (hub?.pid) process.kill(hub.pid, 'SIGCONT');
    await hub?.dispose();
  });

  it(`R1: ${STORM} connections while the hub accepts nothing: all established by the kernel, all served once it runs`, async (ctx) => {
    // Linux caps every backlog at net.core.somaxconn (4096 since 5.4; 128 before, where the hub's cannot help).
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    if (somaxconn < STORM)
      return ctx.skip(`net.core.somaxconn is ${somaxconn} here, under the ${STORM} tried`);
    hub = await HubProcess.start({
      config: { influx: { mode: 'external', url: 'http://127.0.0.1:9', database: 'phones-away' } },
    });
    const pid = hub.pid;
    if (!pid) throw new Error('no hub process');
    const port = hub.mqttPort;
    process.kill(pid, 'SIGSTOP');

    let established = 0;
    let answered = 0;
    for (let i = 0; i < STORM; i++) {
      const socket = connect({ host: '127.0.0.1', port });
      sockets.push(socket);
      socket.on('error', () => {});
      socket.once('connect', () => {
        established += 1;
        socket.write(connectPacket(`storm-${i}`));
      });
      // CONNACK (0x20): the hub read this connection's CONNECT and answered it.
      socket.once('data', (data) => {
        if (data[0] === 0x20) answered += 1;
      });
    }
    // The kernel completes what the backlog holds at once; a SYN past it is dropped and retried only after a second.
    await waitFor(() => established === STORM, `all ${STORM} handshakes (established so far)`, 10_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}: ${established} of ${STORM} established while the hub was stopped`);
      },
    );
    expect(answered, 'nothing is answered while the hub is stopped').toBe(0);

    process.kill(pid, 'SIGCONT');
    await waitFor(() => answered === STORM, 'every CONNECT answered', 60_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${answered} of ${STORM}`);
    });
  }, 120_000);
});
