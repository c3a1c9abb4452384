import { randomInt } from 'node:crypto';

/** No 0/O or 1/I: staff read these codes aloud and type them. 32^4 ≈ one million codes of the shortest length. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const REF_MIN_LENGTH = 4;
/** Random picks at one length before trying one character longer. */
const TRIES_PER_LENGTH = 8;

export function randomIncidentRef(length = REF_MIN_LENGTH): string {
  let ref = '';
  for (let i = 0; i < length; i += 1) ref += ALPHABET[randomInt(ALPHABET.length)];
  return ref;
}

/**
 * A reference not yet taken. Short while the space is roomy; when picks at one length keep colliding (the space is
 * filling), it tries one character longer, and so on: each length is 32 times roomier than the last, so this never
 * runs out and a full 4-character space costs a genuine report nothing but a 5-character reference.
 */
export async function allocateRef(
  taken: (ref: string) => Promise<boolean>,
  random: (length: number) => string = randomIncidentRef,
): Promise<string> {
  for (let length = REF_MIN_LENGTH; ; length += 1) {
    for (let attempt = 0; attempt < TRIES_PER_LENGTH; attempt += 1) {
      const ref = random(length);
      if (!(await taken(ref))) return ref;
    }
  }
}
