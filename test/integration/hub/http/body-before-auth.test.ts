/**
 * Refused before the body is read (S5): every signed-in route's session guard runs as soon as the request's headers
 * are in. The release upload takes bodies of up to 256 MB, and its guard used to run only once the whole body had
 * been read into memory, so anyone on the LAN could make the hub hold 256 MB per connection (64 connections an
 * address) without signing in. Attacked here for real: twenty connections at once, each declaring a 256 MB bundle and
 * sending 16 MB of it, with no session, with a session whose role may not upload, and without the CSRF token.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BUNDLE_BYTES } from '../../../../hub/http/routes/update-routes.js';
import { type HubFixture, startTestHub } from '../../../support/hub-fixture.js';
import { StaffClient } from '../../../support/staff-client.js';

const PASSWORD = 'correct horse battery staple 42';
/** Sent of each declared 256 MB body at most (bounds the test: 20 × 16 MB over loopback). */
const SEND_BYTES = 16 * 1024 * 1024;
const CHUNK = Buffer.alloc(256 * 1024, 0x55);

interface Outcome {
  status: number;
  /** Body bytes written when the status line arrived. */
  sentWhenAnswered: number;
}

/** A raw POST of a declared 256 MB bundle: writes up to SEND_BYTES of it and resolves on the status line. */
function postBundle(port: number, headers: Record<string, string>, onAllSent: () => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let sent = 0;
    let answered: Outcome | undefined;
    let head = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 8 s after ${sent} body bytes: the hub is reading the body first`));
    }, 8_000);
    const pump = () => {
      while (sent < SEND_BYTES && !socket.destroyed) {
        sent += CHUNK.length;
        if (!socket.write(CHUNK)) return void socket.once('drain', pump);
      }
      onAllSent();
    };
    socket.on('connect', () => {
      const lines = [
        'POST /api/updates/releases HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: application/octet-stream',
        `Content-Length: ${MAX_BUNDLE_BYTES - 1}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      pump();
    });
    socket.on('data', (data) => {
      if (answered) return;
      head += data.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (!match) return;
      answered = { status: Number(match[1]), sentWhenAnswered: sent };
      clearTimeout(timer);
      resolve(answered);
      socket.destroy();
    });
    socket.on('error', () => {
      // The hub may close the connection after answering: the answer is what counts.
    });
  });
}

describe('signed-in routes refuse before reading the body (S5)', () => {
  let fixture: HubFixture;
  let port: number;
  let office: StaffClient;
  let admin: StaffClient;

  beforeAll(async () => {
    fixture = await startTestHub();
    const { hub } = fixture;
    port = Number(new URL(hub.httpUrl).port);
    await hub.users.add('olly', PASSWORD, ['office'], Date.now());
    await hub.users.add('ada', PASSWORD, ['admin'], Date.now());
    office = new StaffClient(hub.httpUrl, 'olly', PASSWORD);
    admin = new StaffClient(hub.httpUrl, 'ada', PASSWORD);
    await office.signIn();
    await admin.signIn();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  it('S5: twenty unsigned 256 MB uploads at once are refused before their bodies, and the hub holds none of them', async () => {
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    let allSent = 0;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 20);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        postBundle(port, {}, () => {
          allSent += 1;
        }),
      ),
    );
    clearInterval(sample);
    expect(outcomes.map((o) => o.status)).toEqual(Array(20).fill(401));
    // Answered long before a 256 MB body could have been read: at most what the test sent.
    for (const o of outcomes) expect(o.sentWhenAnswered).toBeLessThanOrEqual(SEND_BYTES);
    // The hub (in this process) never held the bodies: far less than the 320 MB the twenty connections sent.
    expect(
      (peak - before) / 1024 / 1024,
      `array buffers grew by MB (${allSent} of 20 sent all)`,
    ).toBeLessThan(64);
    expect((await fetch(`${fixture.hub.httpUrl}/api/health`)).status).toBe(200);
  });

  it('S5: a signed-in account whose role may not upload, and an upload without the CSRF token, are refused before the body', async () => {
    const asOffice = await postBundle(port, { Cookie: office.cookie, 'X-CSRF-Token': office.csrf }, () => {});
    expect(asOffice.status).toBe(403);
    const noCsrf = await postBundle(port, { Cookie: admin.cookie }, () => {});
    expect(noCsrf.status).toBe(403);
    expect(Math.max(asOffice.sentWhenAnswered, noCsrf.sentWhenAnswered)).toBeLessThanOrEqual(SEND_BYTES);
  });
});
