/**
 * The classroom simulator's server against a real emulated Uno running Firmata, read through johnny-five (the path the
 * device program takes): each action reaches the board as a contact change the board port reports; each light the
 * port shows is read back from the pins in words; bad and cross-site requests are refused with a clear error, logged
 * and counted, and the server carries on. A production hub does not serve it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classroom, type ClassroomView } from '../../../cli/simulator/classroom.js';
import {
  MAX_BODY_BYTES,
  MAX_STREAMS,
  type SimulatorServer,
  startSimulatorServer,
} from '../../../cli/simulator/server.js';
import type { InputEvent } from '../../../firmware/board/board-port.js';
import { type EmulatedSession, startEmulatedBoard } from '../../../firmware/board/emulated-session.js';
import { DEFAULT_UNO_PINS } from '../../../firmware/board/pin-map.js';
import { MACHINE_DEFAULTS } from '../../../firmware/device-machine.js';
import { createLogger } from '../../../shared/log.js';
import { repoRoot, startTestHub, waitFor } from '../../support/hub-fixture.js';

const DEVICE = 'room-1-locker';

/** The demo's long-press threshold. */
const LONG_PRESS_MS = 2000;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: fetch() will not set Host, and the point here is to send what a browser or attacker might. */
function send(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: { Host: `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = { 'Content-Type': 'application/json' };
const action = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  send(url, {
    method: 'POST',
    path: `/api/classrooms/${DEVICE}/actions`,
    headers: { ...json, ...headers },
    body: JSON.stringify(body),
  });

describe('classroom simulator server', () => {
  let board: EmulatedSession;
  let simulator: SimulatorServer;
  const events: InputEvent[] = [];
  const timed: { event: InputEvent; at: number }[] = [];
  const logLines: string[] = [];
  /** Every byte the host (firmata-io) writes to the emulated Uno's serial port, for the read-back test's report. */
  const hostBytes: number[] = [];
  let appliedAt = 0;

  const view = async (): Promise<ClassroomView> => {
    const answer = await send(simulator.url, { path: '/api/classrooms' });
    return (JSON.parse(answer.body) as { classrooms: ClassroomView[] }).classrooms[0] as ClassroomView;
  };

  beforeAll(async () => {
    board = await startEmulatedBoard(DEFAULT_UNO_PINS, { id: DEVICE });
    const serial = board.emulator.serial as unknown as {
      write: (chunk: Uint8Array, ...rest: unknown[]) => boolean;
    };
    const write = serial.write.bind(serial);
    serial.write = (chunk, ...rest) => {
      for (const b of chunk) hostBytes.push(b);
      return write(chunk, ...rest);
    };
    const classroom = new Classroom({
      device: DEVICE,
      room: 'room-1',
      emulator: board.emulator,
      pins: DEFAULT_UNO_PINS,
      longPressMs: LONG_PRESS_MS,
    });
    board.port.onInput((event) => {
      events.push(event);
      timed.push({ event, at: performance.now() });
    });
    simulator = await startSimulatorServer({
      classrooms: [classroom],
      log: createLogger('test', 'warn', { write: (line: string) => void logLines.push(line) }),
    });
  });

  afterAll(async () => {
    await simulator?.close();
    await board?.close();
  });

  it('listens on loopback only and serves its page with a strict policy and no CORS', async () => {
    expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await send(simulator.url, { path: '/' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>phones-away classroom simulator</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const preflight = await send(simulator.url, {
      method: 'OPTIONS',
      path: `/api/classrooms/${DEVICE}/actions`,
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBeGreaterThanOrEqual(400);
    expect(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('every action reaches the board as a contact change, read through johnny-five', async () => {
    const seen = (match: (e: InputEvent) => boolean) => () => events.some(match);
    events.length = 0;
    // The emulator boots with every contact released: the door reads open until it is shut.
    expect((await action(simulator.url, { action: 'door', open: false })).status).toBe(202);
    await waitFor(
      seen((e) => e.kind === 'door' && !e.open),
      'door shut reported by the board',
    );
    expect((await action(simulator.url, { action: 'door', open: true })).status).toBe(202);
    await waitFor(
      seen((e) => e.kind === 'door' && e.open),
      'door open reported by the board',
    );
    expect((await action(simulator.url, { action: 'key', on: true })).status).toBe(202);
    await waitFor(
      seen((e) => e.kind === 'key' && e.on),
      'key on reported by the board',
    );
    expect((await action(simulator.url, { action: 'slot', slot: 2, phone: true })).status).toBe(202);
    await waitFor(
      seen((e) => e.kind === 'slot' && e.index === 2 && e.occupied),
      'slot 2 occupied',
    );
    const after = await waitFor(async () => {
      const v = await view();
      return v.doorOpen && v.keyOn && v.slots[2] ? v : undefined;
    }, 'the view to show the inputs as driven');
    expect(after.slots).toEqual([false, false, true, false]);
  });

  it('R1: a short press is a tap below the long-press threshold; a long press is held past it', async () => {
    // The press length as the device program measures it (device-machine.ts): the longer of the time between the two
    // edges as read and the board-clock length the release carries (a lower bound that a chip running behind on a
    // loaded machine can shorten, which is why the device takes the longer of the two).
    const presses = (): number[] => {
      const lengths: number[] = [];
      let downAt: number | undefined;
      for (const { event, at } of timed) {
        if (event.kind !== 'button') continue;
        if (event.pressed) downAt = at;
        else if (downAt !== undefined) lengths.push(Math.max(at - downAt, event.heldMs ?? 0));
      }
      return lengths;
    };
    timed.length = 0;
    expect((await action(simulator.url, { action: 'press', hold: 'short' })).status).toBe(202);
    // A second press while the first is held is refused, not queued.
    const again = await action(simulator.url, { action: 'press', hold: 'short' });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).error.code).toBe('E_BUTTON_HELD');
    const [short] = await waitFor(() => (presses().length === 1 ? presses() : undefined), 'short press');
    expect(short).toBeGreaterThanOrEqual(MACHINE_DEFAULTS.debounceMs);
    expect(short).toBeLessThan(LONG_PRESS_MS);

    await waitFor(
      async () => (await action(simulator.url, { action: 'press', hold: 'long' })).status === 202,
      'the button to be free again',
    );
    const long = await waitFor(() => presses()[1], 'long press', 15_000);
    expect(long).toBeGreaterThanOrEqual(LONG_PRESS_MS);
  });

  it('P1, R1: reads the lock, the signage and the button light back from the output pins, in words', async () => {
    // Once seen in a clean-clone CI run and not reproduced since (33 runs and 580 loops under load): a timeout says
    // which reading failed and whether the pins (and the chip's clock) disagree with it: a light misread, a write that
    // never reached the chip, or a chip that stopped running.
    const explain = async (error: Error): Promise<never> => {
      const e = board.emulator;
      const { buttonLight, signage, lock } = DEFAULT_UNO_PINS;
      const rgb = [signage.red, signage.green, signage.blue];
      const pins = () =>
        `light ${e.pwmDuty(buttonLight).toFixed(2)} rgb ${rgb.map((p) => e.pwmDuty(p).toFixed(2)).join('/')} lock ${e.readPin(lock)}`;
      const millis = e.millis;
      const before = pins();
      await new Promise((r) => setTimeout(r, 1000));
      // Every byte the host sent since the outputs were applied: an analog message to the red pin (e9 7f 01) that is
      // here but not on the pin was lost on the chip's side; one that is not here was never sent.
      const sent = hostBytes.slice(appliedAt).map((b) => b.toString(16).padStart(2, '0'));
      throw new Error(
        `${error.message}: view ${JSON.stringify(await view())}; pins ${before}, 1 s later ${pins()}; ` +
          `chip ran ${Math.round(e.millis - millis)} ms in 1 s; bytes ${JSON.stringify(e.stats)}; ` +
          `host sent since the apply (${sent.length}): ${sent.slice(0, 120).join(' ')}`,
      );
    };
    appliedAt = hostBytes.length;
    board.port.apply({ locked: true, signage: 'phones-away', buttonLight: 'stored' });
    const shown = await waitFor(
      async () => {
        const v = await view();
        return v.locked && v.signage.mode === 'phones-away' && v.button.light === 'stored' ? v : undefined;
      },
      'lock, signage and light read back',
      15_000,
    ).catch(explain);
    expect(shown.signage.words).toBe('steady red: phones away');
    expect(shown.button.words).toBe('stored');
    appliedAt = hostBytes.length;
    board.port.apply({ locked: false, signage: 'authorised-use', buttonLight: 'confirmed' });
    const next = await waitFor(
      async () => {
        const v = await view();
        return !v.locked && v.signage.mode === 'authorised-use' && v.button.light === 'received'
          ? v
          : undefined;
      },
      'the new outputs read back',
      15_000,
    ).catch(explain);
    expect(next.signage.colour).toBe('blue');
  });

  it('the live stream sends each classroom, then its changes', async () => {
    const controller = new AbortController();
    const response = await fetch(new URL('/api/events', simulator.url), { signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const next = async (match: (v: ClassroomView) => boolean) => {
      for (;;) {
        const views = [...text.matchAll(/^data: (.*)$/gm)].map(
          (m) => JSON.parse(m[1] as string) as ClassroomView,
        );
        const found = views.find(match);
        if (found) return found;
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += decoder.decode(value, { stream: true });
      }
    };
    expect((await next(() => true)).device).toBe(DEVICE);
    await action(simulator.url, { action: 'door', open: false });
    expect((await next((v) => !v.doorOpen)).doorOpen).toBe(false);
    controller.abort();
  });

  it('bounds the live streams open at once, and frees a place when a page closes', async () => {
    const open = async (): Promise<{ status: number; controller: AbortController }> => {
      const controller = new AbortController();
      const response = await fetch(new URL('/api/events', simulator.url), { signal: controller.signal });
      if (response.status !== 200) await response.body?.cancel();
      return { status: response.status, controller };
    };
    const streams = [];
    for (let i = 0; i < MAX_STREAMS; i += 1) streams.push(await open());
    expect(streams.map((s) => s.status)).toEqual(Array(MAX_STREAMS).fill(200));
    expect((await open()).status).toBe(503);
    streams.pop()?.controller.abort();
    const again = await waitFor(async () => {
      const attempt = await open();
      return attempt.status === 200 ? attempt : undefined;
    }, 'a place to free up');
    streams.push(again);
    for (const stream of streams) stream.controller.abort();
  });

  it('refuses bad and cross-site requests with a clear error, logs and counts each, and carries on', async () => {
    const cases: [string, Promise<Answer>, number, string][] = [
      [
        'another Host (DNS rebinding)',
        send(simulator.url, { path: '/api/classrooms', headers: { Host: 'evil.example' } }),
        421,
        'E_BAD_HOST',
      ],
      [
        'a cross-site Origin',
        action(simulator.url, { action: 'door', open: true }, { Origin: 'http://evil.example' }),
        403,
        'E_CROSS_SITE',
      ],
      [
        'a cross-site fetch',
        action(simulator.url, { action: 'door', open: true }, { 'Sec-Fetch-Site': 'cross-site' }),
        403,
        'E_CROSS_SITE',
      ],
      [
        'a form post (no JSON content type)',
        send(simulator.url, {
          method: 'POST',
          path: `/api/classrooms/${DEVICE}/actions`,
          headers: { 'Content-Type': 'text/plain' },
          body: '{"action":"door","open":true}',
        }),
        415,
        'E_CONTENT_TYPE',
      ],
      [
        'an oversized body',
        send(simulator.url, {
          method: 'POST',
          path: `/api/classrooms/${DEVICE}/actions`,
          headers: json,
          body: `{"action":"door","open":true,"pad":"${'x'.repeat(MAX_BODY_BYTES)}"}`,
        }),
        413,
        'E_TOO_LARGE',
      ],
      [
        'broken JSON',
        send(simulator.url, {
          method: 'POST',
          path: `/api/classrooms/${DEVICE}/actions`,
          headers: json,
          body: '{',
        }),
        400,
        'E_BAD_JSON',
      ],
      ['an unknown action', action(simulator.url, { action: 'smash' }), 400, 'E_BAD_ACTION'],
      [
        'a slot the locker lacks',
        action(simulator.url, { action: 'slot', slot: 9, phone: true }),
        400,
        'E_NO_SUCH_SLOT',
      ],
      [
        'an unknown classroom',
        send(simulator.url, {
          method: 'POST',
          path: '/api/classrooms/nobody/actions',
          headers: json,
          body: '{"action":"door","open":true}',
        }),
        404,
        'E_NO_SUCH_CLASSROOM',
      ],
      [
        'a GET of an action',
        send(simulator.url, { path: `/api/classrooms/${DEVICE}/actions` }),
        405,
        'E_METHOD',
      ],
      ['an unknown path', send(simulator.url, { path: '/admin' }), 404, 'E_NOT_FOUND'],
    ];
    for (const [what, answer, status, code] of cases) {
      const { status: got, body } = await answer;
      expect({ what, status: got }).toEqual({ what, status });
      const error = JSON.parse(body).error as { code: string; message: string };
      expect({ what, code: error.code }).toEqual({ what, code });
      expect(error.message.length).toBeGreaterThan(10);
      expect(simulator.refused[code]).toBeGreaterThanOrEqual(1);
      expect(logLines.some((line) => line.includes(`"code":"${code}"`) && line.includes('"reason"'))).toBe(
        true,
      );
    }
    // Still serving.
    expect((await action(simulator.url, { action: 'door', open: true })).status).toBe(202);
    expect(
      (
        await send(simulator.url, {
          path: '/',
          headers: { Host: `localhost:${new URL(simulator.url).port}` },
        })
      ).status,
    ).toBe(200);
  });

  it('is not served by a production hub, and no hub module imports it', async () => {
    const fixture = await startTestHub();
    try {
      // The hub may answer an unknown GET with its own page (the dashboard's client-side routes), never with ours.
      for (const path of ['/simulator.js', '/simulator.css', '/api/classrooms', '/api/events']) {
        const text = await (await fetch(new URL(path, fixture.hub.httpUrl))).text();
        expect({
          path,
          ours: /EventSource\('\/api\/events'\)|"classrooms":\[|\.sign-light/.test(text),
        }).toEqual({
          path,
          ours: false,
        });
      }
      const press = await fetch(new URL(`/api/classrooms/${DEVICE}/actions`, fixture.hub.httpUrl), {
        method: 'POST',
        headers: json,
        body: '{"action":"press","hold":"short"}',
      });
      expect(press.status).toBeGreaterThanOrEqual(400);
    } finally {
      await fixture.dispose();
    }
    const imports: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && /simulator\//.test(readFileSync(path, 'utf8'))) imports.push(path);
      }
    };
    walk(join(repoRoot, 'hub'));
    expect(imports).toEqual([]);
  });
});
