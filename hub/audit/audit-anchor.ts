/**
 * Anchoring the audit chain (S6): once a day the chain's head (how many entries, and the last one's hash) leaves the
 * hub by the notifier's email and webhook. A hash chain alone proves only that it links up within itself: someone with
 * the database can cut off the newest rows, or rewrite every entry from some point on and recompute the hashes. A head
 * kept elsewhere (the governors' inbox, the webhook's receiver) does not change with it, and verify() against it
 * fails. Rows written since the last anchor are covered by the next one.
 */
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import type { AuditLog, ChainHead } from './audit-log.js';

const DAY_MS = 86_400_000;

export interface AuditAnchorDeps {
  audit: AuditLog;
  /** Queues the head for email and webhook (durably: the notifier's job queue). */
  send: (head: ChainHead, at: number) => Promise<void>;
  now: () => number;
  log: Logger;
  intervalMs?: number;
}

export class AuditAnchor implements HubExtension {
  readonly name = 'audit-anchor';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: AuditAnchorDeps) {}

  async start(): Promise<void> {
    const run = () => {
      this.running = this.tick(this.deps.now()).catch((error) =>
        this.deps.log.error({ err: error }, 'audit anchor failed; will try again'),
      );
    };
    this.timer = setInterval(run, this.deps.intervalMs ?? 3_600_000);
    this.timer.unref();
    run();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Sends when the last anchor is a day old or more, or there is none (a hub restarted often still sends daily). */
  async tick(now: number): Promise<ChainHead | null> {
    const last = await this.deps.audit.lastSent();
    if (last !== undefined && now - last.sentAt < DAY_MS) return null;
    return this.anchor(now);
  }

  /** Queues the current head for sending, records it as sent, and audits that it was. */
  async anchor(now: number): Promise<ChainHead> {
    const { audit } = this.deps;
    const head = await audit.currentHead();
    await this.deps.send(head, now);
    await audit.markSent(head, now, {
      actor: 'system:audit-anchor',
      action: 'audit.anchor-sent',
      target: 'audit',
      // The hash only: the head's entry count, read by anyone who reads this row, less the rows they can read, would
      // count the rows hidden from them (a concern about the head, with the governors). The email carries the count.
      after: { hash: head.hash },
    });
    this.deps.log.info({ seq: head.seq }, 'audit chain head sent');
    return head;
  }
}
