/**
 * A MessagePack decoder for what the broker's persistence stores (packets and subscriptions: maps of strings,
 * numbers, booleans, nil and Buffers). msgpack-lite still writes every value, so the stored format is unchanged;
 * this only reads it, several times faster: a restart decodes every subscription and the policy's start decodes every
 * retained command, and msgpack-lite's generic token table made that a visible share of a reconnect storm
 * (bench/RESULTS.md, fleet). Anything outside that subset (extension types, 64-bit integers, float32) is handed to
 * msgpack-lite, so the result is always what msgpack-lite would return.
 */
import msgpack from 'msgpack-lite';

class Unsupported extends Error {
  readonly code = 'E_MSGPACK_UNSUPPORTED';
}
const UNSUPPORTED = new Unsupported('format outside the fast subset');

class Reader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}

  value(): unknown {
    const buf = this.buf;
    const type = this.byte();
    if (type <= 0x7f) return type;
    if (type >= 0xe0) return type - 0x100;
    if (type <= 0x8f) return this.map(type - 0x80);
    if (type <= 0x9f) return this.array(type - 0x90);
    if (type <= 0xbf) return this.str(type - 0xa0);
    switch (type) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.byte());
      case 0xc5:
        return this.bin(this.uint16());
      case 0xc6:
        return this.bin(this.uint32());
      case 0xcb: {
        const v = buf.readDoubleBE(this.offset);
        this.offset += 8;
        return v;
      }
      case 0xcc:
        return this.byte();
      case 0xcd:
        return this.uint16();
      case 0xce:
        return this.uint32();
      case 0xd0: {
        const v = buf.readInt8(this.offset);
        this.offset += 1;
        return v;
      }
      case 0xd1: {
        const v = buf.readInt16BE(this.offset);
        this.offset += 2;
        return v;
      }
      case 0xd2: {
        const v = buf.readInt32BE(this.offset);
        this.offset += 4;
        return v;
      }
      case 0xd9:
        return this.str(this.byte());
      case 0xda:
        return this.str(this.uint16());
      case 0xdb:
        return this.str(this.uint32());
      case 0xdc:
        return this.array(this.uint16());
      case 0xdd:
        return this.array(this.uint32());
      case 0xde:
        return this.map(this.uint16());
      case 0xdf:
        return this.map(this.uint32());
      default:
        throw UNSUPPORTED;
    }
  }

  private byte(): number {
    if (this.offset >= this.buf.length) throw UNSUPPORTED;
    const v = this.buf[this.offset] as number;
    this.offset += 1;
    return v;
  }

  private uint16(): number {
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  private uint32(): number {
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  private take(length: number): number {
    const start = this.offset;
    if (start + length > this.buf.length) throw UNSUPPORTED;
    this.offset += length;
    return start;
  }

  private str(length: number): string {
    const start = this.take(length);
    return this.buf.toString('utf8', start, start + length);
  }

  /** A copy, as msgpack-lite returns: the stored blob's memory is not kept alive by the packet. */
  private bin(length: number): Buffer {
    const start = this.take(length);
    return Buffer.from(this.buf.subarray(start, start + length));
  }

  private array(length: number): unknown[] {
    const out = new Array<unknown>(length);
    for (let i = 0; i < length; i++) out[i] = this.value();
    return out;
  }

  private map(length: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < length; i++) {
      const key = this.value();
      out[String(key)] = this.value();
    }
    return out;
  }
}

/** Decodes one stored value: the same result as msgpack-lite's decode. */
export function decodeStored(blob: Buffer): unknown {
  try {
    const reader = new Reader(blob);
    const value = reader.value();
    if (reader.offset === blob.length) return value;
  } catch (error) {
    if (!(error instanceof Unsupported) && !(error instanceof RangeError)) throw error;
  }
  return msgpack.decode(blob);
}
