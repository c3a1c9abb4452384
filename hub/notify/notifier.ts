/**
 * Incident notifications (R2, R6): email over SMTP to the role the incident is routed to, and a webhook. They carry no
 * pupil-identifying data and no report content (D1): only the reference, room, urgency, time and a link to the
 * dashboard, where staff sign in to read it. Jobs wait in the hub DB ('notify' sublevel) and are retried with
 * back-off, so a mail server being down delays a notice but never loses one or touches the incident itself.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { NotificationsConfig } from '../../schemas/config.js';
import type { HubDb } from '../db/hub-db.js';
import type { EventBus, IncidentSummary } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';

export type NoticeRole = 'coordinator' | 'dsl' | 'head' | 'governor';

export interface Notice {
  event: 'reported' | 'escalated' | 'routed';
  ref: string;
  kind: IncidentSummary['kind'];
  room: string;
  urgency: IncidentSummary['urgency'];
  /** ISO 8601 of the report. */
  at: string;
  role: NoticeRole;
  link: string;
}

/**
 * The audit chain's head, sent daily (hub/audit/audit-anchor.ts): a copy outside the hub, so cutting off or
 * rewriting the log afterwards shows when it is verified against this. Carries no content, only a count and a hash.
 */
export interface AnchorNotice {
  event: 'audit-anchor';
  /** Entries ever written (the last sequence number). */
  seq: number;
  hash: string;
  /** ISO 8601 of when it was taken. */
  at: string;
  site: string;
}

export interface NotifyJob {
  id: string;
  channel: 'email' | 'webhook';
  notice: Notice | AnchorNotice;
  attempts: number;
  nextAt: number;
  lastError?: string;
  failed?: boolean;
}

const refOf = (notice: Notice | AnchorNotice) =>
  notice.event === 'audit-anchor' ? `audit-anchor:${notice.seq}` : notice.ref;

/** Pure: which notice an incident event calls for, if any. */
export function noticeFor(
  incident: IncidentSummary,
  step: { action: string; routeTo?: string } | undefined,
  dashboardUrl: string,
): Notice | null {
  let event: Notice['event'];
  let role: NoticeRole;
  if (!step) {
    event = 'reported';
    role = incident.routeTo ?? 'coordinator';
  } else if (step.action === 'escalated') {
    event = 'escalated';
    role = (
      incident.routeTo === 'head' || incident.routeTo === 'governor' ? incident.routeTo : 'dsl'
    ) as NoticeRole;
  } else if (step.action === 'routed' && step.routeTo) {
    event = 'routed';
    role = step.routeTo as NoticeRole;
  } else return null;
  return {
    event,
    ref: incident.ref,
    kind: incident.kind,
    room: incident.room,
    urgency: incident.urgency,
    at: new Date(incident.reportedAt).toISOString(),
    role,
    link: `${dashboardUrl.replace(/\/+$/, '')}/incidents/${encodeURIComponent(incident.ref)}`,
  };
}

export function emailFor(notice: Notice): { subject: string; text: string } {
  const what = notice.kind === 'tamper' ? 'Tamper alert' : 'Safeguarding report';
  const why =
    notice.event === 'escalated'
      ? 'It was not acknowledged by its deadline and has been escalated to you.'
      : notice.event === 'routed'
        ? 'It has been routed to you.'
        : 'Please acknowledge it today.';
  const urgent = notice.urgency === 'urgent' ? 'URGENT ' : '';
  return {
    subject: `[phones-away] ${urgent}${what} ${notice.ref}${notice.event === 'escalated' ? ' (escalated)' : ''}`,
    text: [
      `${urgent}${what} ${notice.ref} from ${notice.room} at ${notice.at}.`,
      why,
      '',
      `Open it on the dashboard (sign-in required): ${notice.link}`,
      '',
      'This message deliberately contains no details. Do not forward it.',
    ].join('\n'),
  };
}

export function anchorEmail(notice: AnchorNotice): { subject: string; text: string } {
  return {
    subject: `[phones-away] Audit log fingerprint for ${notice.site}, ${notice.at.slice(0, 10)}`,
    text: [
      `The ${notice.site} audit log held ${notice.seq} entries at ${notice.at}.`,
      `Fingerprint of entry ${notice.seq}: ${notice.hash}`,
      '',
      'Keep this message. If the log is ever questioned, check it against this fingerprint:',
      `  phones-away audit verify --data-dir <dir> --against ${notice.seq}:${notice.hash}`,
      'A log cut short or rewritten after today will not match.',
    ].join('\n'),
  };
}

export interface NotifierDeps {
  config: NotificationsConfig;
  db: HubDb;
  bus: EventBus;
  log: Logger;
  now: () => number;
  pollMs?: number;
}

export class Notifier implements HubExtension {
  readonly name = 'notifier';
  private transport: Transporter | null = null;
  private offs: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private again = false;
  readonly stats = { sent: 0, retried: 0, failed: 0 };

  constructor(private readonly deps: NotifierDeps) {}

  async start(): Promise<void> {
    const { config, bus } = this.deps;
    if (config.email) {
      const e = config.email;
      const password = e.passwordFile ? readFileSync(e.passwordFile, 'utf8').trim() : undefined;
      this.transport = nodemailer.createTransport({
        host: e.host,
        port: e.port,
        secure: e.secure ?? false,
        requireTLS: e.requireTls ?? false,
        ...(e.username && password ? { auth: { user: e.username, pass: password } } : {}),
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
      });
    }
    this.offs.push(
      bus.on('incident.created', ({ incident }) =>
        this.enqueue(noticeFor(incident, undefined, config.dashboardUrl)),
      ),
      bus.on('incident.updated', ({ incident, step }) =>
        step ? this.enqueue(noticeFor(incident, step, config.dashboardUrl)) : undefined,
      ),
    );
    this.timer = setInterval(() => void this.flush(), this.deps.pollMs ?? 5_000);
    this.timer.unref();
    void this.flush();
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flushing;
    this.transport?.close();
  }

  private recipients(role: NoticeRole): string[] {
    return this.deps.config.email?.to[role] ?? [];
  }

  /** Audit anchors go to the governors (oversight of the school's own staff), else the DSL. */
  private anchorRecipients(): string[] {
    const governors = this.recipients('governor');
    return governors.length > 0 ? governors : this.recipients('dsl');
  }

  async enqueue(notice: Notice | AnchorNotice | null): Promise<void> {
    if (!notice) return;
    const jobs: NotifyJob[] = [];
    const base = { notice, attempts: 0, nextAt: this.deps.now() };
    const anchor = notice.event === 'audit-anchor';
    const to = anchor ? this.anchorRecipients() : this.recipients(notice.role);
    if (this.transport && to.length > 0) jobs.push({ id: randomUUID(), channel: 'email', ...base });
    // A concern about the head goes to the governors only: not to a shared channel the head may read (R6).
    if (this.deps.config.webhook && (anchor || notice.role !== 'governor'))
      jobs.push({ id: randomUUID(), channel: 'webhook', ...base });
    if (jobs.length === 0) return;
    await this.deps.db.batch(
      jobs.map((job) => ({ type: 'put', sublevel: 'notify', key: job.id, value: job })),
    );
    void this.flush();
  }

  /** Sends every due job once; overlapping calls coalesce. Resolves when the queue has been worked through. */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.again = false;
        for (const job of await this.deps.db.values<NotifyJob>('notify')) {
          if (job.failed || job.nextAt > this.deps.now()) continue;
          await this.attempt(job);
        }
      } while (this.again);
    })()
      .catch((error) => this.deps.log.error({ err: error }, 'notification flush failed'))
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  async pending(): Promise<NotifyJob[]> {
    return this.deps.db.values<NotifyJob>('notify');
  }

  private async attempt(job: NotifyJob): Promise<void> {
    const { log, db, now } = this.deps;
    try {
      if (job.channel === 'email') await this.sendEmail(job.notice);
      else await this.sendWebhook(job.notice);
      await db.del('notify', job.id);
      this.stats.sent += 1;
    } catch (error) {
      const attempts = job.attempts + 1;
      const failed = attempts > (this.deps.config.retries ?? 5);
      const next: NotifyJob = {
        ...job,
        attempts,
        nextAt: now() + (this.deps.config.retryDelaySeconds ?? 30) * 1000 * 2 ** (attempts - 1),
        lastError: (error as Error).message.slice(0, 300),
        ...(failed ? { failed: true } : {}),
      };
      await db.put('notify', job.id, next);
      if (failed) {
        this.stats.failed += 1;
        log.error(
          { channel: job.channel, ref: refOf(job.notice), attempts, err: error },
          'notification gave up',
        );
      } else {
        this.stats.retried += 1;
        log.warn(
          { channel: job.channel, ref: refOf(job.notice), attempts, err: error },
          'notification failed; will retry',
        );
      }
    }
  }

  private async sendEmail(notice: Notice | AnchorNotice): Promise<void> {
    const email = this.deps.config.email;
    if (!this.transport || !email) throw new Error('email not configured');
    const anchor = notice.event === 'audit-anchor';
    const { subject, text } = anchor ? anchorEmail(notice) : emailFor(notice);
    const to = anchor ? this.anchorRecipients() : this.recipients(notice.role);
    await this.transport.sendMail({ from: email.from, to, subject, text });
  }

  private async sendWebhook(notice: Notice | AnchorNotice): Promise<void> {
    const webhook = this.deps.config.webhook;
    if (!webhook) throw new Error('webhook not configured');
    const type = notice.event === 'audit-anchor' ? 'audit.anchor' : `incident.${notice.event}`;
    const body = JSON.stringify({ type, ...notice });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (webhook.secretFile) {
      const secret = readFileSync(webhook.secretFile, 'utf8').trim();
      headers['x-phones-away-signature'] =
        `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    }
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    await response.body?.cancel();
  }
}
