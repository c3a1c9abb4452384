/**
 * The hub's view of its time-series store. Our own types, so nothing outside hub/store imports the InfluxDB client.
 *
 * Writes are idempotent: a point with the same measurement, tag set and timestamp overwrites the earlier one, so the
 * outbox may retry a whole batch after a partial failure without creating duplicates.
 */
import { HubError } from '../errors.js';

export interface MetricPoint {
  measurement: string;
  /** Empty-string values are dropped (InfluxDB has no empty tags). */
  tags: Record<string, string>;
  /** Numbers are always stored as floats, so a counter that later carries a fraction never causes a type conflict. */
  fields: Record<string, number | boolean | string>;
  /** Unix epoch milliseconds (integer). */
  ts: number;
  /**
   * Sub-millisecond offset, 0–999999 ns. Points with the same measurement, tags and time overwrite each other, so
   * events give their sequence number here: two events of one device in the same millisecond (or after the device's
   * clock jumped back) stay two points. Queries still read whole milliseconds.
   */
  subMsNs?: number;
}

export interface Series {
  name: string;
  /** Present when the query has GROUP BY tags. */
  tags?: Record<string, string>;
  columns: string[];
  /** The `time` column is epoch milliseconds. */
  values: unknown[][];
}

export interface MetricsStore {
  /**
   * Resolves once every point is stored. Throws StoreUnavailableError (retry later; the whole batch is safe to
   * resend) or StoreRejectedError (bad points; do not retry).
   */
  writePoints(points: MetricPoint[]): Promise<void>;
  /**
   * Optional pair for queues that hold points a long time (the durable outbox): encode() turns a point into the
   * store's own wire form once, when it is queued (throwing StoreRejectedError for a point the store would refuse),
   * and writeEncoded() writes such forms as they are, with writePoints()' errors. A drain then neither parses points
   * back into objects nor serialises them again.
   */
  encode?(point: MetricPoint): string;
  writeEncoded?(encoded: string[]): Promise<void>;
  /** Runs InfluxQL and returns the series of every statement, flattened. */
  query(influxql: string): Promise<Series[]>;
  /** True when the store answers; never throws. */
  ping(): Promise<boolean>;
}

/** The store cannot be reached or is failing (connection refused, timeout, 5xx, auth/database misconfigured). */
export class StoreUnavailableError extends HubError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('E_STORE_UNAVAILABLE', message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * The store understood the request and refused it (malformed point, field type conflict, bad query). Retrying the
 * same input cannot succeed. For writes InfluxDB may still have stored the valid points of the batch.
 */
export class StoreRejectedError extends HubError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('E_STORE_REJECTED', message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
