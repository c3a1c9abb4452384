import { randomInt } from 'node:crypto';

/** No 0/O or 1/I: staff read these codes aloud and type them. 32^4 ≈ one million codes. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export function randomIncidentRef(): string {
  let ref = '';
  for (let i = 0; i < 4; i += 1) ref += ALPHABET[randomInt(ALPHABET.length)];
  return ref;
}
