/**
 * The trust's web listener bounded as the hub's dashboard is (hub/net/bounded-http-server.ts): it took any number of
 * sockets, kept one that never sent a request for as long as its peer liked, and gave a TLS handshake Node's 120 s.
 * Attacked for real on the real trust server: idle sockets past the per-address cap, sockets that never send a
 * request, and one that sends its request a byte at a time; the leader's sign-in page still answers. The store is a
 * closed port: nothing here reads it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../hub/log.js';
import type { TrustConfig } from '../../../schemas/trust.js';
import { startTrust, type TrustServer } from '../../../trust/main.js';
import { waitFor } from '../../support/hub-fixture.js';

const LIMITS = {
  maxConnections: 50,
  maxConnectionsPerAddress: 8,
  requestTimeoutMs: 600,
  tlsHandshakeTimeoutMs: 600,
};

/** A socket that sends nothing; resolves once connected, and tells whether it is closed. */
async function idleSocket(port: number): Promise<{ socket: Socket; closed: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  let closed = false;
  socket.on('close', () => {
    closed = true;
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return { socket, closed: () => closed };
}

describe('the trust web listener under exhaustion (S5, S7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-trust-exhaust-'));
  let trust: TrustServer;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    const config: TrustConfig = {
      v: 1,
      name: 'Riverside Learning Trust',
      dataDir: join(dir, 'trust'),
      http: { host: '127.0.0.1', port: 0 },
      store: { url: 'http://127.0.0.1:9', database: 'trust' },
      schools: [{ site: 'north-school', name: 'North School' }],
    };
    trust = await startTrust(config, { log: silentLogger, httpLimits: LIMITS });
    port = Number(new URL(trust.url).port);
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await trust?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S5: sockets past the per-address cap are closed at once, and those that send nothing are dropped', async () => {
    const held = await Promise.all(Array.from({ length: 20 }, () => idleSocket(port)));
    sockets.push(...held.map((h) => h.socket));
    await waitFor(() => held.filter((h) => h.closed()).length >= 12, 'the sockets past the cap closed');
    expect(trust.httpRefused()['http: connection cap (per-address)']).toBe(12);
    // The 8 within the cap never send a request: dropped after the request timeout, not held for ever.
    await waitFor(() => held.every((h) => h.closed()), 'idle sockets dropped', 5_000);
    expect(trust.httpRefused()['http: no request before the timeout']).toBe(8);
    expect((await fetch(`${trust.url}/login`)).status).toBe(200);
  });

  it('S5: a request sent a byte at a time is cut off at the request timeout', async () => {
    const { socket, closed } = await idleSocket(port);
    sockets.push(socket);
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    const request = 'GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
    const started = Date.now();
    let sent = 0;
    while (!closed() && Date.now() - started < 5_000) {
      socket.write(request[sent % request.length] as string);
      sent += 1;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(closed(), 'the slow request still open after 5 s').toBe(true);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect((await fetch(`${trust.url}/login`)).status).toBe(200);
  });
});
