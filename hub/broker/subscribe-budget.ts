/**
 * How much subscribing one connection may do before the broker drops it (S5). aedes authorises a SUBSCRIBE filter by
 * filter and keeps the connection whatever it is refused, and frame-guard.ts throttles PUBLISH only: one device
 * sending SUBSCRIBE packets of 10,000 filters each kept a core busy and, at a warning per refused filter, wrote about
 * 19 MB of log a second.
 */
import type { Principal } from './access-policy.js';

/**
 * Filters one device connection may ask for in all, granted or not. A device needs its two inbox filters
 * (topics.deviceInbox), asked for on connect by the firmware (firmware/hub-link.ts), possibly again by MQTT.js's own
 * resubscribe, and restored from its stored session: six at most.
 */
export const MAX_DEVICE_FILTERS = 16;
/**
 * Refused filters one connection may ask for. A device configured for the wrong room is refused its two inbox
 * filters and stays connected (its publishes are refused and counted too); more than this is probing.
 */
export const MAX_REFUSED_FILTERS = 8;

export class SubscribeBudget {
  private filters = 0;
  private refused = 0;

  /** `maxFilters`: all filters the connection may ask for; monitors are not capped (see subscribeBudgetFor). */
  constructor(private readonly maxFilters: number) {}

  /** Counts one filter of a SUBSCRIBE; returns why the connection must be dropped, or undefined while within budget. */
  spend(granted: boolean): string | undefined {
    this.filters += 1;
    if (!granted) this.refused += 1;
    if (this.refused > MAX_REFUSED_FILTERS) return `more than ${MAX_REFUSED_FILTERS} filters refused`;
    if (this.filters > this.maxFilters) return `more than ${this.maxFilters} filters asked for`;
    return undefined;
  }

  /** Whether this filter is the connection's first refused one: the only one logged (the drop is logged once too). */
  firstRefusal(): boolean {
    return this.refused === 1;
  }
}

/**
 * A device's budget counts every filter; a monitor's counts only refused ones, since what it may subscribe to (its
 * site's tree, access-policy.ts) is the policy's call, and re-subscribing to it is legitimate.
 */
export function subscribeBudgetFor(principal: Principal): SubscribeBudget {
  return new SubscribeBudget(principal.kind === 'device' ? MAX_DEVICE_FILTERS : Number.POSITIVE_INFINITY);
}
