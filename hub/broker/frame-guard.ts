/**
 * A guard in front of the MQTT parser: reads only the fixed header of each packet (type and remaining length) and
 * drops the connection at once when a packet is larger than allowed, its length field is malformed, the first packet
 * is not CONNECT, or a reserved packet type arrives. aedes has no maximum packet size and its parser buffers a whole
 * packet before looking at it, so without this one client could declare 256 MB and trickle it in.
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

export class MqttFrameGuard extends Transform {
  /** Bytes of the current packet's body still to pass through before the next fixed header. */
  private remaining = 0;
  private header: number[] = [];
  private packets = 0;

  constructor(private readonly maxPacketBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      this.header.push(chunk[i] as number);
      i += 1;
      const error = this.readHeader();
      if (error) {
        done(error);
        return;
      }
    }
    done(null, chunk);
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
