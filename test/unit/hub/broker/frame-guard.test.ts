import { describe, expect, it } from 'vitest';
import { type FrameError, MqttFrameGuard } from '../../../../hub/broker/frame-guard.js';
import { frame } from '../../../support/mqtt-wire.js';

const CONNECT = Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 10, 0, 1, 0x78]);
const PINGREQ = Buffer.from([0xc0, 0x00]);

/** Writes chunks through a guard; resolves with the bytes passed on, or the error it raised. */
function feed(max: number, chunks: Buffer[]): Promise<{ out: Buffer; error?: FrameError }> {
  return new Promise((resolve) => {
    const guard = new MqttFrameGuard(max);
    const out: Buffer[] = [];
    guard.on('data', (d: Buffer) => out.push(d));
    guard.on('error', (error: FrameError) => resolve({ out: Buffer.concat(out), error }));
    guard.on('end', () => resolve({ out: Buffer.concat(out) }));
    for (const c of chunks) guard.write(c);
    guard.end();
  });
}

/** A QoS 0 PUBLISH of `bodyBytes` bytes of body (the guard reads only the fixed header). */
const publishOf = (bodyBytes: number): Buffer => frame(0x30, Buffer.alloc(bodyBytes, 1));

describe('MQTT frame guard', () => {
  it('passes valid packets through unchanged, however they are split into chunks', async () => {
    const stream = Buffer.concat([CONNECT, publishOf(300), PINGREQ, publishOf(5)]);
    const oneByteChunks = [...stream].map((b) => Buffer.from([b]));
    for (const chunks of [[stream], oneByteChunks]) {
      const { out, error } = await feed(1024, chunks);
      expect(error).toBeUndefined();
      expect(out.equals(stream)).toBe(true);
    }
  });

  it('accepts a packet of exactly the limit and refuses one byte more', async () => {
    const exact = publishOf(1024 - 3); // 1 type byte + 2 length bytes + body
    expect((await feed(1024, [CONNECT, exact])).error).toBeUndefined();
    const over = publishOf(1024 - 2);
    expect((await feed(1024, [CONNECT, over])).error?.code).toBe('E_MQTT_TOO_LARGE');
  });

  it('refuses when the first packet is not CONNECT, a reserved type, or a 5-byte length', async () => {
    expect((await feed(1024, [Buffer.from('GET / HTTP/1.1')])).error?.code).toBe('E_MQTT_NOT_CONNECT');
    expect((await feed(1024, [CONNECT, Buffer.from([0xf0, 0])])).error?.code).toBe('E_MQTT_MALFORMED');
    expect((await feed(1024, [Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])])).error?.code).toBe(
      'E_MQTT_MALFORMED',
    );
  });

  it('passes at most maxPublishesAhead PUBLISH packets until released, then the rest in order, byte for byte', async () => {
    const guard = new MqttFrameGuard(1024, 2);
    const out: Buffer[] = [];
    guard.on('data', (d: Buffer) => out.push(d));
    const publishes = [publishOf(10), publishOf(11), publishOf(12), publishOf(13)];
    const stream = Buffer.concat([
      CONNECT,
      publishes[0]!,
      publishes[1]!,
      publishes[2]!,
      PINGREQ,
      publishes[3]!,
    ]);
    guard.write(stream);
    const passed = async () => {
      await new Promise((r) => setImmediate(r));
      return Buffer.concat(out).length;
    };
    // CONNECT and two publishes; the third waits, and so does the PINGREQ behind it (order is kept).
    expect(await passed()).toBe(CONNECT.length + 10 + 2 + 11 + 2);
    guard.release();
    expect(await passed()).toBe(CONNECT.length + 10 + 2 + 11 + 2 + 12 + 2 + PINGREQ.length);
    guard.release();
    expect(await passed()).toBe(stream.length);
    expect(Buffer.concat(out).equals(stream)).toBe(true);
    // Releases beyond what was passed on (aedes also authorises a will) do not raise the bound.
    for (let i = 0; i < 5; i++) guard.release();
    guard.write(Buffer.concat([publishOf(1), publishOf(2), publishOf(3)]));
    expect(await passed()).toBe(stream.length + 3 + 4);
  });
});
