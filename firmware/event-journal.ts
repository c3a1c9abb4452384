/**
 * The device's durable, crash-safe event store under `<dataDir>/journal`:
 *
 *   meta.json                 { v, deviceId, reserved, head }   seq reservation and hash-chain head
 *   pending/<seq>.json        one sealed event waiting for the hub (reports until ReportAck, locker events
 *                             until the broker's PUBACK)
 *   docs/<name>.json          small documents the device must keep across reboots (e.g. today's schedule)
 *
 * Every write is write-temp + fsync + rename + fsync(dir), so a power cut leaves either the old or the new file,
 * never a torn one; leftover temp files are deleted on open.
 *
 * An append is durable (and its promise resolves) once its pending file is; the new chain head reaches meta.json in a
 * write queued right after, off the report's latency path. That is safe because the newest pending file is the head
 * on open, and meta.json is brought up to date before any pending file is removed (ack, bound), so the head can
 * never be lost with the file that carried it.
 *
 * A locker event is published once its append resolves. A report is published from appendReport's `onSealed`, while
 * its file is being written (firmware/device.ts): a pupil's report must not wait on a slow SD card, and the hub
 * acknowledges it only once its own copy is fsynced, so the report is safe as soon as either copy is. Sending first
 * never widens the window in which a press can be lost (from the press to the first durable copy, as before), and
 * nothing is doubled: its seq was reserved durably before it left the process. The one new case is a power cut after
 * the send and before the file: the hub holds a report this journal never recorded, and the device's next message
 * forks the chain just before it, which the hub recognises ('report-kept' in hub/ingest/chain-tracker.ts: logged,
 * not a device fault, and only for the newest link when it is a report).
 *
 * Sequence numbers never repeat: meta.json records `reserved`, the highest seq that may have been issued, and is
 * durably raised in blocks before a seq beyond it leaves the process. After a power cut the next seq is
 * reserved + 1, so at most one block of numbers is skipped (gaps are harmless; repeats would not be).
 *
 * When the storage fails (SD card full, read-only or worn out), nothing raised is lost while the device runs: an event
 * whose file cannot be written is kept in memory with the others, sent and resent the same way, and written when
 * writes work again (retryUnsaved, called by the device). `faulty` says so meanwhile; the device shows it on the
 * button light and in its heartbeats. A seq reservation that cannot be written is used in memory all the same: the
 * alternative is to refuse the event. The one case this leaves open is a restart while the card still fails (or
 * before the reservation was written after it recovered): numbers issued since the last written reservation may be
 * issued again, and the hub would take such a report for a resend of the earlier one.
 *
 * Hash chain: each durable event's `prev` is the SHA-256 of the previous durable event's canonical JSON
 * (see eventHash). Heartbeats carry the current head as `prev` but are not links themselves: they are QoS 0
 * and may be lost, and the hub can compare their `prev` with the last event it holds to see that it is missing
 * events.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LockerEvent, Report } from '../schemas/messages.js';
import { check } from '../schemas/validate.js';
import { syncDir } from '../shared/durable-file.js';
import type { Logger } from '../shared/log.js';

export type JournalLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export class JournalError extends Error {
  constructor(
    readonly code: 'E_JOURNAL_DEVICE' | 'E_JOURNAL_CLOSED' | 'E_JOURNAL_META',
    message: string,
  ) {
    super(message);
    this.name = 'JournalError';
  }
}

export interface Envelope {
  v: 1;
  id: string;
  seq: number;
  ts: number;
  prev?: string;
  /** Whether the device clock was synchronised when `ts` was read; absent when unknown. */
  clockSynced?: boolean;
}

export type PendingItem = { type: 'report'; event: Report } | { type: 'locker'; event: LockerEvent };

export interface JournalOptions {
  /** Directory of this journal; created if missing. */
  dir: string;
  deviceId: string;
  /** Bound on pending items; above it the oldest locker events are dropped, never reports. */
  maxPending?: number;
  /** How many sequence numbers one durable reservation covers. */
  seqBlock?: number;
  log?: JournalLog;
}

interface Meta {
  v: 1;
  deviceId: string;
  reserved: number;
  head: { seq: number; hash: string } | null;
}

const SEQ_WIDTH = 16;
const noopLog: JournalLog = { debug() {}, info() {}, warn() {}, error() {} };

import { eventHash } from '../schemas/event-hash.js';

/** Re-exported for callers that hash events the way this journal chains them. */
export { canonicalJson, eventHash } from '../schemas/event-hash.js';

export class EventJournal {
  private readonly pendingDir: string;
  private readonly docsDir: string;
  private readonly maxPending: number;
  private readonly seqBlock: number;
  private readonly log: JournalLog;
  /** Insertion order is seq order. */
  private readonly items = new Map<number, PendingItem>();
  private lastSeq: number;
  private closed = false;
  private droppedCount = 0;
  private tail: Promise<unknown> = Promise.resolve();
  /** meta.json on disk is behind `meta` (a head not yet written); see flushMeta. */
  private metaBehind = false;
  private metaFlushQueued = false;
  /** Seqs of pending items held in memory only: their file could not be written. */
  private readonly unsaved = new Set<number>();
  /** The last write failed and has not been retried successfully since. */
  private writeFailed = false;

  private constructor(
    private readonly opts: JournalOptions,
    private meta: Meta,
    items: PendingItem[],
  ) {
    this.pendingDir = join(opts.dir, 'pending');
    this.docsDir = join(opts.dir, 'docs');
    this.maxPending = opts.maxPending ?? 10_000;
    this.seqBlock = opts.seqBlock ?? 64;
    this.log = opts.log ?? noopLog;
    for (const item of items) this.items.set(item.event.seq, item);
    this.lastSeq = meta.reserved;
  }

  /** Opens (or creates) the journal, discards torn temp files and loads what is still pending. */
  static async open(opts: JournalOptions): Promise<EventJournal> {
    const log = opts.log ?? noopLog;
    const pendingDir = join(opts.dir, 'pending');
    await mkdir(pendingDir, { recursive: true });
    await mkdir(join(opts.dir, 'docs'), { recursive: true });
    await removeTempFiles(opts.dir, log);
    await removeTempFiles(join(opts.dir, 'docs'), log);
    await removeTempFiles(pendingDir, log);

    let meta = await readMeta(join(opts.dir, 'meta.json'));
    if (meta && meta.deviceId !== opts.deviceId) {
      throw new JournalError(
        'E_JOURNAL_DEVICE',
        `journal in ${opts.dir} belongs to device '${meta.deviceId}', not '${opts.deviceId}'`,
      );
    }
    meta ??= { v: 1, deviceId: opts.deviceId, reserved: 0, head: null };

    const items = await loadPending(pendingDir, opts.deviceId, log);
    // A power cut between writing an event and writing meta leaves the event ahead of meta: trust the event.
    const newest = items.at(-1);
    if (newest && newest.event.seq > (meta.head?.seq ?? 0)) {
      meta = { ...meta, head: { seq: newest.event.seq, hash: eventHash(newest.event) } };
    }
    meta = { ...meta, reserved: Math.max(meta.reserved, meta.head?.seq ?? 0) };
    const journal = new EventJournal(opts, meta, items);
    if (items.length > 0)
      log.info({ pending: items.length, lastSeq: meta.reserved }, 'journal: pending events loaded');
    return journal;
  }

  /** Reports and events waiting for the hub. */
  get queued(): number {
    return this.items.size;
  }

  /** Storage is failing: some pending items (or the seq reservation) are held in memory only. */
  get faulty(): boolean {
    return this.writeFailed || this.unsaved.size > 0;
  }

  /** Pending items held in memory only, waiting for storage to work again. */
  get unsavedCount(): number {
    return this.unsaved.size;
  }

  /**
   * Writes what is held in memory only (oldest first) and the meta it is behind on. Resolves true once everything is
   * on disk, false while storage still fails. The device calls it every second or so while `faulty`.
   */
  retryUnsaved(): Promise<boolean> {
    return this.serial(async () => {
      try {
        for (const seq of [...this.unsaved].sort((a, b) => a - b)) {
          const item = this.items.get(seq);
          if (item) await writeDurable(this.pendingDir, fileName(seq), JSON.stringify(item));
          this.unsaved.delete(seq);
        }
        await this.flushMeta();
        if (this.writeFailed)
          this.log.info({}, 'journal: storage works again; everything pending is on disk');
        this.writeFailed = false;
        return true;
      } catch (error) {
        this.writeFailed = true;
        this.log.debug({ err: String(error) }, 'journal: storage still failing');
        return false;
      }
    });
  }

  /** Locker events dropped to keep the store bounded since open. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The chain head: hash of the newest durable event, if any. */
  get head(): string | undefined {
    return this.meta.head?.hash;
  }

  /** Pending items, oldest first. */
  pending(): PendingItem[] {
    return [...this.items.values()];
  }

  has(id: string): boolean {
    const seq = this.seqOf(id);
    return seq !== null && this.items.has(seq);
  }

  /**
   * Seals a report (seq, id, prev), makes it durable, and returns it. queuedMs is 0 here; set it per send.
   * `onSealed` receives the sealed report before its file is written, to send it meanwhile (see the file header).
   */
  appendReport(
    draft: Pick<Report, 'urgency' | 'pressMs' | 'clockSynced'>,
    ts: number,
    onSealed?: (report: Report) => void,
  ): Promise<Report> {
    return this.serial(async () => {
      const env = await this.seal(ts, draft.clockSynced);
      const event: Report = { ...env, urgency: draft.urgency, pressMs: draft.pressMs, queuedMs: 0 };
      try {
        onSealed?.(event);
      } catch (error) {
        // Sending is the caller's business; whatever went wrong there, the report is still written.
        this.log.error({ id: event.id, err: String(error) }, 'journal: onSealed failed');
      }
      await this.persist({ type: 'report', event });
      return event;
    });
  }

  appendLockerEvent(
    draft: Pick<LockerEvent, 'kind' | 'phones' | 'reason' | 'clockSynced'>,
    ts: number,
  ): Promise<LockerEvent> {
    return this.serial(async () => {
      const env = await this.seal(ts, draft.clockSynced);
      const event: LockerEvent = {
        ...env,
        kind: draft.kind,
        phones: draft.phones,
        ...(draft.reason ? { reason: draft.reason } : {}),
      };
      await this.persist({ type: 'locker', event });
      return event;
    });
  }

  /** An envelope for a message that is not journaled (heartbeat): a fresh seq and the current chain head. */
  nextEnvelope(ts: number, clockSynced?: boolean): Promise<Envelope> {
    return this.serial(async () => {
      const seq = await this.allocate();
      const prev = this.meta.head?.hash;
      return {
        v: 1,
        id: `${this.opts.deviceId}:${seq}`,
        seq,
        ts,
        ...(prev ? { prev } : {}),
        ...(clockSynced === undefined ? {} : { clockSynced }),
      };
    });
  }

  /** Removes a delivered item. Returns false when it was not pending (already acknowledged, or not ours). */
  ack(id: string): Promise<boolean> {
    return this.serial(async () => {
      const seq = this.seqOf(id);
      if (seq === null || !this.items.has(seq)) return false;
      if (this.unsaved.has(seq)) {
        // Delivered, and never on disk: nothing to remove. The head is kept in memory until meta can be written.
        this.items.delete(seq);
        this.unsaved.delete(seq);
        await this.flushMeta().catch((error: unknown) => this.failed('meta', error));
        return true;
      }
      await this.flushMeta(); // the head must outlive the file that carried it
      this.items.delete(seq);
      await unlinkDurable(this.pendingDir, fileName(seq));
      return true;
    });
  }

  /** Durably stores a small JSON document (e.g. the schedules the device must enforce offline). */
  saveDoc(name: string, value: unknown): Promise<void> {
    return this.serial(() => writeDurable(this.docsDir, `${safeName(name)}.json`, JSON.stringify(value)));
  }

  /** Reads a document saved with saveDoc, or undefined when there is none or it cannot be read. */
  async loadDoc(name: string): Promise<unknown> {
    try {
      return JSON.parse(await readFile(join(this.docsDir, `${safeName(name)}.json`), 'utf8'));
    } catch (error) {
      if (!isNotFound(error))
        this.log.warn({ name, err: String(error) }, 'journal: unreadable document ignored');
      return undefined;
    }
  }

  /**
   * Waits for queued writes and records the exact last seq, so a clean restart skips no numbers (after a power cut
   * the rest of the reserved block is skipped instead). Afterwards every call fails with E_JOURNAL_CLOSED.
   */
  async close(): Promise<void> {
    await this.serial(async () => {
      if (this.meta.reserved !== this.lastSeq) {
        this.meta = { ...this.meta, reserved: this.lastSeq };
        this.metaBehind = true;
      }
      await this.flushMeta();
      this.closed = true;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.closed) throw new JournalError('E_JOURNAL_CLOSED', 'journal is closed');
      return fn();
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private seqOf(id: string): number | null {
    const prefix = `${this.opts.deviceId}:`;
    if (!id.startsWith(prefix)) return null;
    const seq = Number(id.slice(prefix.length));
    return Number.isSafeInteger(seq) && seq > 0 ? seq : null;
  }

  /** Next seq; raises the durable reservation first when the block is used up. */
  private async allocate(): Promise<number> {
    const seq = this.lastSeq + 1;
    if (seq > this.meta.reserved) {
      this.meta = { ...this.meta, reserved: seq + this.seqBlock - 1 };
      this.metaBehind = true;
      // An event must not be refused for a failing card: the number is used in memory (see the file header).
      await this.flushMeta().catch((error: unknown) => this.failed('meta', error));
    }
    this.lastSeq = seq;
    return seq;
  }

  private async seal(ts: number, clockSynced: boolean | undefined): Promise<Envelope> {
    const seq = await this.allocate();
    const prev = this.meta.head?.hash;
    return {
      v: 1,
      id: `${this.opts.deviceId}:${seq}`,
      seq,
      ts,
      ...(prev ? { prev } : {}),
      ...(clockSynced === undefined ? {} : { clockSynced }),
    };
  }

  private async persist(item: PendingItem): Promise<void> {
    const { seq } = item.event;
    try {
      await writeDurable(this.pendingDir, fileName(seq), JSON.stringify(item));
    } catch (error) {
      // Kept in memory, sent and resent like the rest, and written by retryUnsaved once storage works again.
      this.unsaved.add(seq);
      this.failed(item.type, error);
    }
    this.items.set(seq, item);
    // Event before meta: a power cut in between is repaired on open (the newest pending event is the head). The meta
    // write is queued behind this append, so the caller publishes without waiting for two more fsyncs.
    this.meta = { ...this.meta, head: { seq, hash: eventHash(item.event) } };
    this.metaBehind = true;
    this.queueMetaFlush();
    await this.enforceBound();
  }

  /** Writes meta.json if it is behind. Runs inside serial(); a failure leaves it behind for the next try. */
  private async flushMeta(): Promise<void> {
    if (!this.metaBehind) return;
    const meta = this.meta;
    await writeDurable(this.opts.dir, 'meta.json', JSON.stringify(meta));
    if (this.meta === meta) this.metaBehind = false;
  }

  /** One queued meta write covers every append before it runs. */
  private queueMetaFlush(): void {
    if (this.metaFlushQueued) return;
    this.metaFlushQueued = true;
    this.serial(async () => {
      this.metaFlushQueued = false;
      await this.flushMeta();
    }).catch((error: unknown) => {
      // Not lost: ack, the bound and close() flush again first, and fail (leaving the event pending) if it still fails.
      if (!(error instanceof JournalError)) this.failed('meta', error);
    });
  }

  private failed(what: string, error: unknown): void {
    if (!this.writeFailed)
      this.log.error({ what, err: String(error) }, 'journal: storage failed; held in memory and retried');
    this.writeFailed = true;
  }

  private async enforceBound(): Promise<void> {
    if (this.items.size <= this.maxPending) return;
    for (const [seq, item] of this.items) {
      if (this.items.size <= this.maxPending) break;
      // Never a pupil's report (R1), never a tamper event (R7): whatever the backlog, only routine events go.
      if (item.type === 'report' || item.event.kind === 'tamper') continue;
      this.items.delete(seq);
      this.droppedCount += 1;
      if (this.unsaved.delete(seq)) continue;
      await this.flushMeta(); // the dropped event may be the head
      await unlinkDurable(this.pendingDir, fileName(seq));
    }
    if (this.droppedCount > 0) {
      this.log.warn(
        { dropped: this.droppedCount, pending: this.items.size },
        'journal: full, oldest events dropped',
      );
    }
  }
}

function fileName(seq: number): string {
  return `${String(seq).padStart(SEQ_WIDTH, '0')}.json`;
}

function safeName(name: string): string {
  if (!/^[a-z0-9-]{1,40}$/.test(name)) throw new TypeError(`invalid document name '${name}'`);
  return name;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

async function readMeta(file: string): Promise<Meta | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  const meta = JSON.parse(text) as Partial<Meta>;
  if (meta.v !== 1 || typeof meta.deviceId !== 'string' || !Number.isSafeInteger(meta.reserved)) {
    // Renames are atomic, so this is not a torn write: refuse rather than risk reusing sequence numbers.
    throw new JournalError('E_JOURNAL_META', `${file} is not a journal meta file`);
  }
  return meta as Meta;
}

async function loadPending(dir: string, deviceId: string, log: JournalLog): Promise<PendingItem[]> {
  const items: PendingItem[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (!/^[0-9]+\.json$/.test(name)) continue;
    try {
      const raw = JSON.parse(await readFile(join(dir, name), 'utf8')) as { type?: unknown; event?: unknown };
      const result =
        raw.type === 'report'
          ? check('report', raw.event)
          : raw.type === 'locker'
            ? check('locker-event', raw.event)
            : null;
      if (!result?.ok) throw new Error(result ? result.error.message : `unknown type ${String(raw.type)}`);
      if (!result.value.id.startsWith(`${deviceId}:`))
        throw new Error(`event of another device: ${result.value.id}`);
      items.push({ type: raw.type, event: result.value } as PendingItem);
    } catch (error) {
      // Keep the evidence for a person to look at, but never let one bad file stop the device.
      log.error({ file: name, err: String(error) }, 'journal: unreadable pending file set aside');
      await rename(join(dir, name), join(dir, `${name}.bad`)).catch(() => undefined);
    }
  }
  return items.sort((a, b) => a.event.seq - b.event.seq);
}

async function removeTempFiles(dir: string, log: JournalLog): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.includes('.tmp-')) continue;
    log.debug({ file: name }, 'journal: removing torn temp file');
    await unlink(join(dir, name)).catch(() => undefined);
  }
}

/** write-temp + fsync + rename + fsync(dir): the file is either absent, old or complete. */
async function writeDurable(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, name));
  } catch (error) {
    // A full card leaves a half-written temp file: remove it, so it holds no space the retry needs.
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await syncDir(dir);
}

async function unlinkDurable(dir: string, name: string): Promise<void> {
  try {
    await unlink(join(dir, name));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await syncDir(dir);
}
