/**
 * The hub's only InfluxDB I/O. Speaks the v1 HTTP API (`/write` + InfluxQL `/query`), the one pair that works on
 * InfluxDB 1.6 (Debian's package, what we run), 1.8, 2.x (via a DBRP mapping) and 3.x Core. The client library is
 * used only for its line-protocol serialiser and HTTP transport: its WriteApi is hard-wired to /api/v2/write, which
 * 1.x answers with 404. Lines are assembled here with the client's escaping rules (`escape`, imported as lineProtocolEscape) rather than through its
 * Point, which costs about 5 µs a point, a quarter of the outbox's drain to InfluxDB; a unit test holds the two to
 * the same output, byte for byte.
 *
 * No retries or buffering here on purpose: the hub's durable outbox retries on StoreUnavailableError.
 */
import {
  HttpError,
  InfluxDB,
  escape as lineProtocolEscape,
  RequestTimedOutError,
  type Transport,
} from '@influxdata/influxdb-client';
import { type Logger, silentLogger } from '../log.js';
import { quoteIdent } from './influxql.js';
import {
  type MetricPoint,
  type MetricsStore,
  type Series,
  StoreRejectedError,
  StoreUnavailableError,
} from './metrics-store.js';

export interface InfluxStoreOptions {
  /** Base URL, e.g. http://127.0.0.1:18086 */
  url: string;
  database: string;
  /** Optional retention policy (`rp=`); the database default when omitted. */
  retentionPolicy?: string;
  /** Sent as HTTP Basic auth: 1.x rejects the client's `Authorization: Token` scheme. */
  username?: string;
  password?: string;
  /** Socket timeout for writes and queries. Default 10 s. */
  timeoutMs?: number;
  /** Default 2 s: ping is used for health checks and start-up polling, where waiting long is worse than "no". */
  pingTimeoutMs?: number;
  /** Lines per /write request; InfluxData recommends ~5000. Default 5000. */
  maxLinesPerWrite?: number;
  log?: Logger;
}

/**
 * Escaped names and tag values. A school's points reuse a few hundred (measurements, tag keys, rooms, devices), and
 * escaping walks every character; bounded, so odd input cannot grow it for ever.
 */
const escapedCache = { tag: new Map<string, string>(), measurement: new Map<string, string>() };
const ESCAPED_MAX = 10_000;

function escapeCached(kind: 'tag' | 'measurement', raw: string): string {
  const cache = escapedCache[kind];
  let out = cache.get(raw);
  if (out === undefined) {
    out = lineProtocolEscape[kind](raw);
    if (cache.size >= ESCAPED_MAX) cache.clear();
    cache.set(raw, out);
  }
  return out;
}

/** Object keys in the order the client's Point writes them (code-unit order), sorting only when needed. */
function sortedKeys(record: object): string[] {
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) return keys.sort();
  }
  return keys;
}

/**
 * One point as a line-protocol line: what the client's Point writes (tags and fields in key order, empty tag values
 * and empty keys left out, numbers as floats, booleans as T/F), with the timestamp in nanoseconds: ms followed by
 * the six sub-ms digits, written with precision=ns so subMsNs keeps same-millisecond events apart (never `us`: 1.6
 * silently stores `us` input as ns). Throws StoreRejectedError for points InfluxDB would refuse or, worse, mangle.
 */
export function toLineProtocol(p: MetricPoint): string {
  if (typeof p.measurement !== 'string' || p.measurement === '') throw rejectPoint(p, 'empty measurement');
  if (!Number.isSafeInteger(p.ts)) throw rejectPoint(p, `timestamp must be integer epoch ms, got ${p.ts}`);
  const subMs = p.subMsNs ?? 0;
  if (!Number.isInteger(subMs) || subMs < 0 || subMs > 999_999)
    throw rejectPoint(p, `subMsNs out of range: ${subMs}`);
  checkName(p, p.measurement);
  let tags = '';
  for (const k of sortedKeys(p.tags)) {
    const v: unknown = p.tags[k];
    if (typeof v !== 'string') throw rejectPoint(p, `tag "${k}" is not a string`);
    checkName(p, k);
    checkName(p, v);
    if (k !== '' && v !== '') tags += `,${escapeCached('tag', k)}=${escapeCached('tag', v)}`;
  }
  let fields = '';
  for (const k of sortedKeys(p.fields)) {
    const v: unknown = p.fields[k];
    checkName(p, k);
    let value: string;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw rejectPoint(p, `field "${k}" is not finite (${v})`);
      value = String(v);
    } else if (typeof v === 'boolean') value = v ? 'T' : 'F';
    else if (typeof v === 'string') value = lineProtocolEscape.quoted(v);
    else throw rejectPoint(p, `field "${k}" has unsupported type ${typeof v}`);
    if (k !== '') fields += `${fields === '' ? '' : ','}${escapeCached('tag', k)}=${value}`;
  }
  if (fields === '') throw rejectPoint(p, 'no fields');
  return `${escapeCached('measurement', p.measurement)}${tags} ${fields} ${p.ts}${String(subMs).padStart(6, '0')}`;
}

function checkName(p: MetricPoint, name: string): void {
  // A trailing backslash would escape the following separator and silently merge tokens in line protocol.
  if (name.endsWith('\\')) throw rejectPoint(p, `"${name}" ends with a backslash`);
}

function rejectPoint(p: MetricPoint, why: string): StoreRejectedError {
  return new StoreRejectedError(`invalid point for measurement "${String(p.measurement)}": ${why}`);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
]);

/** InfluxDB 1.x puts the reason in `{"error": "..."}`; the client only looks at 2.x's `message`. */
function httpReason(err: HttpError): string {
  const body = err.body ?? '';
  try {
    const json = JSON.parse(body) as { error?: unknown; message?: unknown };
    const reason = json.error ?? json.message;
    if (typeof reason === 'string') return reason;
  } catch {
    // not JSON: fall through to the raw body
  }
  return body.slice(0, 500) || (err.statusMessage ?? '');
}

/**
 * Sorts a failure into "try again later" or "this input is wrong". Anything unexpected counts as unavailable: a
 * needless retry is cheap, wrongly dropping a batch loses data.
 */
export function classifyError(err: unknown, what: string): StoreUnavailableError | StoreRejectedError {
  if (err instanceof StoreUnavailableError || err instanceof StoreRejectedError) return err;
  if (err instanceof HttpError) {
    const status = err.statusCode;
    const reason = `${what}: HTTP ${status} ${httpReason(err)}`;
    // 401/403: credentials misconfigured; 404: database (or v1 endpoint) missing; 408/429: transient.
    // None of these says the points are bad, so the outbox must keep them.
    if (
      status >= 500 ||
      status === 401 ||
      status === 403 ||
      status === 404 ||
      status === 408 ||
      status === 429
    ) {
      return new StoreUnavailableError(reason, status, { cause: err });
    }
    return new StoreRejectedError(reason, status, { cause: err });
  }
  if (err instanceof RequestTimedOutError) {
    return new StoreUnavailableError(`${what}: request timed out`, undefined, { cause: err });
  }
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const detail = typeof code === 'string' && NETWORK_CODES.has(code) ? code : message;
  return new StoreUnavailableError(`${what}: ${detail}`, undefined, { cause: err });
}

interface QueryResponse {
  results?: Array<{
    statement_id?: number;
    series?: Series[];
    error?: string;
    messages?: Array<{ level: string; text: string }>;
  }>;
  error?: string;
}

export class InfluxStore implements MetricsStore {
  readonly url: string;
  readonly database: string;
  private readonly transport: Transport;
  private readonly rp: string | undefined;
  private readonly pingTimeoutMs: number;
  private readonly maxLines: number;
  private readonly log: Logger;

  constructor(opts: InfluxStoreOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.database = opts.database;
    this.rp = opts.retentionPolicy;
    this.pingTimeoutMs = opts.pingTimeoutMs ?? 2_000;
    this.maxLines = Math.max(1, opts.maxLinesPerWrite ?? 5_000);
    this.log = opts.log ?? silentLogger;
    const headers: Record<string, string> = {};
    if (opts.username !== undefined || opts.password !== undefined) {
      const basic = Buffer.from(`${opts.username ?? ''}:${opts.password ?? ''}`).toString('base64');
      headers.authorization = `Basic ${basic}`;
    }
    this.transport = new InfluxDB({ url: this.url, timeout: opts.timeoutMs ?? 10_000, headers }).transport;
  }

  private params(extra: Record<string, string>): string {
    const params = new URLSearchParams({ db: this.database, ...extra });
    if (this.rp !== undefined) params.set('rp', this.rp);
    return params.toString();
  }

  /** A point in the form writeEncoded() takes (line protocol); throws StoreRejectedError for a point it refuses. */
  encode(point: MetricPoint): string {
    return toLineProtocol(point);
  }

  async writePoints(points: MetricPoint[]): Promise<void> {
    const lines: string[] = [];
    const invalid: string[] = [];
    for (const p of points) {
      try {
        lines.push(toLineProtocol(p));
      } catch (err) {
        invalid.push((err as Error).message);
      }
    }
    // Valid points are written even when some are not, matching InfluxDB's own partial-write behaviour.
    await this.writeEncoded(lines);
    if (invalid.length > 0) {
      const shown = invalid.slice(0, 5).join('; ');
      const more = invalid.length > 5 ? `; and ${invalid.length - 5} more` : '';
      throw new StoreRejectedError(`${invalid.length} of ${points.length} points rejected: ${shown}${more}`);
    }
  }

  /** Lines from encode(), written as they are: the outbox stores points encoded, so its drain serialises nothing. */
  async writeEncoded(lines: string[]): Promise<void> {
    let rejected: StoreRejectedError | undefined;
    const path = `/write?${this.params({ precision: 'ns' })}`;
    for (let i = 0; i < lines.length; i += this.maxLines) {
      const body =
        lines.length <= this.maxLines ? lines.join('\n') : lines.slice(i, i + this.maxLines).join('\n');
      try {
        await this.transport.request(path, body, {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        });
      } catch (err) {
        const mapped = classifyError(err, `write to ${this.url}`);
        if (mapped instanceof StoreUnavailableError) throw mapped;
        rejected ??= mapped;
      }
    }
    if (rejected) {
      this.log.warn({ err: rejected.message, lines: lines.length }, 'influx rejected points');
      throw rejected;
    }
  }

  async query(influxql: string): Promise<Series[]> {
    // Always POST: 1.x refuses (or warns about) non-SELECT statements over GET; every v1-compatible server takes POST.
    let res: QueryResponse | undefined;
    try {
      res = (await this.transport.request(
        `/query?${this.params({ epoch: 'ms' })}`,
        new URLSearchParams({ q: influxql }).toString(),
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        },
      )) as QueryResponse | undefined;
    } catch (err) {
      throw classifyError(err, `query to ${this.url}`);
    }
    if (res?.error) throw new StoreRejectedError(`query: ${res.error}`);
    const series: Series[] = [];
    const errors: string[] = [];
    for (const r of res?.results ?? []) {
      if (r.error) errors.push(r.error);
      for (const m of r.messages ?? [])
        this.log.debug({ level: m.level, text: m.text }, 'influx query message');
      if (r.series) series.push(...r.series);
    }
    if (errors.length > 0) throw new StoreRejectedError(`query: ${errors.join('; ')}`);
    return series;
  }

  async ping(): Promise<boolean> {
    try {
      await this.transport.request('/ping', '', {
        method: 'GET',
        signal: AbortSignal.timeout(this.pingTimeoutMs),
      });
      return true;
    } catch {
      return false;
    }
  }

  /** CREATE DATABASE is idempotent in InfluxQL, so this is safe on every start. */
  async ensureDatabase(): Promise<void> {
    await this.query(`CREATE DATABASE ${quoteIdent(this.database)}`);
  }
}

export function createInfluxStore(opts: InfluxStoreOptions): InfluxStore {
  return new InfluxStore(opts);
}
