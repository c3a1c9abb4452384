/**
 * MQTT 3.1.1 wire encoding for tests that play a client byte by byte: one that does not wait for CONNACK, one that
 * writes hundreds of packets at once, one that goes silent.
 */

/** A string or bytes with their two length bytes. */
export const str = (s: string | Buffer): Buffer => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** The remaining-length field: a variable-length integer, 7 bits a byte. */
export function remainingLength(length: number): number[] {
  const bytes: number[] = [];
  let n = length;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    bytes.push(digit);
  } while (n > 0);
  return bytes;
}

/** A packet: its first byte (type and flags), the remaining length, the body. */
export const frame = (firstByte: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([firstByte, ...remainingLength(body.length)]), body]);

/** CONNECT with username = client id and a password, clean session, this keepalive in seconds. */
export const connectPacket = (id: string, password: string, keepaliveS = 30): Buffer =>
  frame(
    0x10,
    Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, keepaliveS]), str(id), str(id), str(password)]),
  );

export const publishQos0 = (topic: string, payload: string): Buffer =>
  frame(0x30, Buffer.concat([str(topic), Buffer.from(payload)]));

export const publishQos1 = (topic: string, payload: string, messageId: number): Buffer =>
  frame(
    0x32,
    Buffer.concat([str(topic), Buffer.from([messageId >> 8, messageId & 0xff]), Buffer.from(payload)]),
  );
