/**
 * A guard in front of the MQTT parser: reads only the fixed header of each packet (type and remaining length) and
 * drops the connection at once when a packet is larger than allowed, its length field is malformed, the first packet
 * is not CONNECT, or a reserved packet type arrives. aedes has no maximum packet size and its parser buffers a whole
 * packet before looking at it, so without this one client could declare 256 MB and trickle it in.
 *
 * It also bounds how far a connection's PUBLISH packets run ahead of the hub (a receive maximum, as MQTT 5 has and
 * 3.1.1 lacks): at most `maxPublishesAhead` are passed on and not yet handled (release() is called as each one is).
 * The rest stay in the socket's buffers and TCP holds the sender back. Without it aedes parses every packet a read
 * brought in and the hub holds each until it is stored: 3,000 devices resending 200 events each after an outage put
 * all 600,000 in memory at once (a 2.4 GB heap, half of the main thread spent collecting garbage, bench/RESULTS.md f).
 */
import { Transform, type TransformCallback } from 'node:stream';

export class FrameError extends Error {
  constructor(
    readonly code: 'E_MQTT_TOO_LARGE' | 'E_MQTT_MALFORMED' | 'E_MQTT_NOT_CONNECT',
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

const CONNECT = 1;
const PUBLISH = 3;

export class MqttFrameGuard extends Transform {
  /** Bytes of the current packet's body still to pass through before the next fixed header. */
  private remaining = 0;
  private header: number[] = [];
  private packets = 0;
  /** PUBLISH packets that may still be passed on before one is released. */
  private credit: number;
  /** A chunk held at a PUBLISH for want of credit: its bytes from `at` on, and the callback that asks for more. */
  private held: { chunk: Buffer; at: number; done: TransformCallback } | undefined;

  constructor(
    private readonly maxPacketBytes: number,
    private readonly maxPublishesAhead = Number.POSITIVE_INFINITY,
  ) {
    super();
    this.credit = maxPublishesAhead;
  }

  /** One PUBLISH passed on has been handled: the next may follow. */
  release(): void {
    // Capped: aedes also authorises a will (no packet of ours) through the same hook.
    this.credit = Math.min(this.credit + 1, this.maxPublishesAhead);
    const held = this.held;
    if (held && !this.destroyed) {
      this.held = undefined;
      this.pass(held.chunk, held.at, held.done);
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pass(chunk, 0, done);
  }

  /** Passes on the chunk from `start`, header by header, until its end or a PUBLISH there is no credit for. */
  private pass(chunk: Buffer, start: number, done: TransformCallback): void {
    let i = start;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      if (this.header.length === 0 && (chunk[i] as number) >> 4 === PUBLISH) {
        if (this.credit <= 0) {
          // Not calling done() is the backpressure: no more is read from the socket until release().
          if (i > start) this.push(chunk.subarray(start, i));
          this.held = { chunk, at: i, done };
          return;
        }
        this.credit -= 1;
      }
      this.header.push(chunk[i] as number);
      i += 1;
      const error = this.readHeader();
      if (error) {
        done(error);
        return;
      }
    }
    done(null, start === 0 ? chunk : chunk.subarray(start));
  }

  /** Advances over the fixed header collected so far; returns an error to drop the connection. */
  private readHeader(): FrameError | undefined {
    const [first, ...lengthBytes] = this.header;
    const type = (first as number) >> 4;
    if (this.packets === 0 && type !== CONNECT)
      return new FrameError('E_MQTT_NOT_CONNECT', 'the first packet is not CONNECT');
    if (type === 0 || type === 15) return new FrameError('E_MQTT_MALFORMED', `reserved packet type ${type}`);
    if (lengthBytes.length === 0) return undefined;
    const last = lengthBytes[lengthBytes.length - 1] as number;
    if (last & 0x80) {
      return lengthBytes.length >= 4
        ? new FrameError('E_MQTT_MALFORMED', 'remaining length longer than 4 bytes')
        : undefined;
    }
    let length = 0;
    for (let k = lengthBytes.length - 1; k >= 0; k--)
      length = length * 128 + ((lengthBytes[k] as number) & 0x7f);
    const total = 1 + lengthBytes.length + length;
    if (total > this.maxPacketBytes)
      return new FrameError('E_MQTT_TOO_LARGE', `packet of ${total} bytes exceeds ${this.maxPacketBytes}`);
    this.header = [];
    this.remaining = length;
    this.packets += 1;
    return undefined;
  }
}
