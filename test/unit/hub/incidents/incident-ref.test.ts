import { describe, expect, it } from 'vitest';
import { allocateRef, REF_MIN_LENGTH, randomIncidentRef } from '../../../../hub/incidents/incident-ref.js';

describe('incident references (R3)', () => {
  it('R3: with every 4-character reference taken, genuine reports still get one (5 characters), never an error', async () => {
    // The whole 4-character space (32^4 = 1,048,576 references) taken, and every reference given out since.
    const taken = new Set<string>();
    const isTaken = async (r: string) => r.length === 4 || taken.has(r);
    const given: string[] = [];
    for (let i = 0; i < 200; i++) {
      const ref = await allocateRef(isTaken);
      taken.add(ref);
      given.push(ref);
    }
    expect(given.every((r) => r.length === 5)).toBe(true);
    expect(new Set(given).size).toBe(200);
  });

  it('R3: a roomy space keeps references short and readable', async () => {
    const ref = await allocateRef(async () => false);
    expect(ref).toHaveLength(REF_MIN_LENGTH);
    expect(ref).toMatch(/^[A-HJ-NP-Z2-9]+$/);
    expect(randomIncidentRef(7)).toHaveLength(7);
  });
});
