/** S5: how much subscribing a connection may do before it is dropped. */
import { describe, expect, it } from 'vitest';
import {
  MAX_DEVICE_FILTERS,
  MAX_REFUSED_FILTERS,
  subscribeBudgetFor,
} from '../../../../hub/broker/subscribe-budget.js';

const device = { kind: 'device', id: 'd', address: { site: 's', room: 'r', device: 'd' } } as const;
const monitor = { kind: 'service', id: 'bms', role: 'monitor', site: 's' } as const;

describe('subscribe budget', () => {
  it('S5: a device asking for its inbox again and again is dropped past the cap on all filters', () => {
    const budget = subscribeBudgetFor(device);
    for (let i = 0; i < MAX_DEVICE_FILTERS; i++) expect(budget.spend(true)).toBeUndefined();
    expect(budget.spend(true)).toBe(`more than ${MAX_DEVICE_FILTERS} filters asked for`);
  });

  it('S5: refused filters are allowed up to the cap, only the first is logged, then the connection goes', () => {
    const budget = subscribeBudgetFor(device);
    expect(budget.spend(false)).toBeUndefined();
    expect(budget.firstRefusal()).toBe(true);
    for (let i = 1; i < MAX_REFUSED_FILTERS; i++) expect(budget.spend(false)).toBeUndefined();
    expect(budget.firstRefusal()).toBe(false);
    expect(budget.spend(false)).toBe(`more than ${MAX_REFUSED_FILTERS} filters refused`);
  });

  it('S5: a monitor may subscribe to what the policy grants it without a cap, but not probe', () => {
    const budget = subscribeBudgetFor(monitor);
    for (let i = 0; i < 1_000; i++) expect(budget.spend(true)).toBeUndefined();
    for (let i = 0; i < MAX_REFUSED_FILTERS; i++) expect(budget.spend(false)).toBeUndefined();
    expect(budget.spend(false)).toBe(`more than ${MAX_REFUSED_FILTERS} filters refused`);
  });
});
