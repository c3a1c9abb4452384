/**
 * Incident notifications (R2, R6): email over SMTP to the role the incident is routed to, and a webhook. They carry no
 * pupil-identifying data and no report content (D1): only the reference, room, urgency, time and a link to the
 * dashboard, where staff sign in to read it. Jobs wait in the hub DB ('notify' sublevel) and are retried with
 * back-off, so a mail server being down delays a notice but never loses one or touches the incident itself.
 *
 * The first notice of an incident is durable with the incident: ingest writes its jobs (createdOps) in the same atomic
 * batch, so a crash between storing the report and sending the notice leaves the job to be sent after the restart.
 * A job whose retries ran out stays, marked failed: /healthz turns unhealthy and the dashboard lists it.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { NotificationsConfig } from '../../schemas/config.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { EventBus, IncidentSummary } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';

export type NoticeRole = 'coordinator' | 'dsl' | 'head' | 'governor';

export interface Notice {
  event: 'reported' | 'escalated' | 'routed' | 'device-fault';
  /** The incident's reference; for a device fault, the device's id. */
  ref: string;
  kind: IncidentSummary['kind'] | 'device';
  room: string;
  urgency: IncidentSummary['urgency'];
  /** ISO 8601 of the report. */
  at: string;
  role: NoticeRole;
  link: string;
}

/**
 * An account is being guessed at (S1): sent to the admins and the DSL once per attack window. Names the account and
 * how many sign-ins failed; never a password, an address list or anything about pupils.
 */
export interface AccountAlert {
  event: 'account-attack';
  username: string;
  failures: number;
  /** When the failure that triggered it happened, as `YYYY-MM-DD HH:MM UTC`. */
  at: string;
  link: string;
}

export type Message = Notice | AccountAlert | AnchorNotice;
export const isAlert = (m: Message): m is AccountAlert => m.event === 'account-attack';

/** A message about an account (a change awaiting approval, a reset): to named addresses, email only. */
export interface AccountMail {
  to: string[];
  subject: string;
  text: string;
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
  /** An incident notice or account alert, or (with `mail`) an account message to named addresses. */
  notice?: Message;
  mail?: AccountMail;
  attempts: number;
  nextAt: number;
  lastError?: string;
  /** When it was last tried (D2: a failed job expires counted from here). */
  lastAttemptAt?: number;
  failed?: boolean;
}

const refOf = (notice: Message) =>
  notice.event === 'audit-anchor'
    ? `audit-anchor:${notice.seq}`
    : notice.event === 'account-attack'
      ? `account:${notice.username}`
      : notice.ref;

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
  } else if ((step.action === 'routed' || step.action === 'acknowledged') && step.routeTo) {
    // Acknowledged as a concern about staff: routed in the same step (R6).
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

export function accountAlertFor(
  alert: { username: string; failures: number; at: number },
  dashboardUrl: string,
): AccountAlert {
  return {
    event: 'account-attack',
    username: alert.username,
    failures: alert.failures,
    at: `${new Date(alert.at).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    link: `${dashboardUrl.replace(/\/+$/, '')}/`,
  };
}

/** R1: a device that cannot store reports on its own storage (journal fault), for the coordinator to have it seen to. */
export function deviceFaultNotice(
  device: { device: string; room: string },
  at: number,
  dashboardUrl: string,
): Notice {
  return {
    event: 'device-fault',
    ref: device.device,
    kind: 'device',
    room: device.room,
    urgency: 'urgent',
    at: new Date(at).toISOString(),
    role: 'coordinator',
    link: `${dashboardUrl.replace(/\/+$/, '')}/devices`,
  };
}

export function emailFor(notice: Exclude<Message, AnchorNotice>): { subject: string; text: string } {
  if (isAlert(notice))
    return {
      subject: `[phones-away] Someone may be trying to guess the password of ${notice.username}`,
      text: [
        `${notice.failures} sign-ins to the account ${notice.username} failed by ${notice.at}, from browsers that have never signed in to it.`,
        'Those browsers now have to wait longer and longer between tries. Browsers that signed in to the account before can still sign in.',
        '',
        `If it was not the account's owner, check the hub's log for the network address, and ask the owner to keep their password private. Dashboard: ${notice.link}`,
        '',
        'This message is sent once for each spell of failed sign-ins on an account, not for every try.',
      ].join('\n'),
    };
  if (notice.event === 'device-fault') {
    return {
      subject: `[phones-away] Device fault in ${notice.room}: it cannot save reports`,
      text: [
        `The report button device in ${notice.room} (${notice.ref}) could not write to its memory card at ${notice.at}.`,
        'Reports pressed there still reach the hub while the network is up, but one pressed while the network is',
        "down is held only in the device's memory until then. Please have the device checked today (its card may be",
        'full or failing).',
        '',
        `Devices on the dashboard (sign-in required): ${notice.link}`,
      ].join('\n'),
    };
  }
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

  private recipients(message: Message): string[] {
    const to = this.deps.config.email?.to;
    if (!to) return [];
    if (isAlert(message)) return [...new Set([...(to.admin ?? []), ...(to.dsl ?? [])])];
    // Audit anchors go to the governors (oversight of the school's own staff), else the DSL.
    if (message.event === 'audit-anchor') return to.governor?.length ? to.governor : (to.dsl ?? []);
    return to[message.role] ?? [];
  }

  /** S1: tells the admins and the DSL that an account is being guessed at. */
  async accountAttack(alert: { username: string; failures: number; at: number }): Promise<void> {
    await this.enqueue(accountAlertFor(alert, this.deps.config.dashboardUrl));
  }

  /** The ops that queue a notice's jobs (one per channel that has recipients for its role). */
  jobOps(notice: Message | null): BatchOp[] {
    if (!notice) return [];
    const jobs: NotifyJob[] = [];
    const base = { notice, attempts: 0, nextAt: this.deps.now() };
    if (this.deps.config.email && this.recipients(notice).length > 0)
      jobs.push({ id: randomUUID(), channel: 'email', ...base });
    // A concern about the head goes to the governors only: not to a shared channel the head may read (R6).
    if (this.deps.config.webhook && (!('role' in notice) || notice.role !== 'governor'))
      jobs.push({ id: randomUUID(), channel: 'webhook', ...base });
    return jobs.map((job) => ({ type: 'put', sublevel: 'notify', key: job.id, value: job }));
  }

  /** The first notice of a new incident, for the caller to commit in the incident's own batch, then kick(). */
  createdOps(incident: IncidentSummary): BatchOp[] {
    return this.jobOps(noticeFor(incident, undefined, this.deps.config.dashboardUrl));
  }

  /** Sends what is due now (after a batch with createdOps committed). Never throws. */
  kick(): void {
    // Before start() the transport is not open yet; start() flushes everything stored meanwhile.
    if (this.timer) void this.flush();
  }

  async enqueue(notice: Message | null): Promise<void> {
    const ops = this.jobOps(notice);
    if (ops.length === 0) return;
    await this.deps.db.batch(ops);
    void this.flush();
  }

  /** Queues an account message (durably, retried like a notice). A no-op without email configured. */
  async enqueueMessage(mail: AccountMail): Promise<void> {
    // As jobOps: queued when email is configured, even before start() opens the transport.
    if (!this.deps.config.email || mail.to.length === 0) return;
    const job: NotifyJob = { id: randomUUID(), channel: 'email', mail, attempts: 0, nextAt: this.deps.now() };
    await this.deps.db.put('notify', job.id, job);
    void this.flush();
  }

  /** Jobs whose retries ran out: nobody was told. Shown on the dashboard; /healthz is unhealthy while any exist. */
  async failed(): Promise<NotifyJob[]> {
    return (await this.deps.db.values<NotifyJob>('notify')).filter((job) => job.failed);
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

  /**
   * D2: jobs that gave up (failed after every retry) whose last attempt is older than `before`. Jobs still being
   * retried are never removed: each still has someone to tell.
   */
  async retentionPlan(before: number): Promise<{ ops: BatchOp[]; count: number }> {
    const ops: BatchOp[] = [];
    for await (const [key, job] of this.deps.db.entries<NotifyJob>('notify'))
      if (job.failed && (job.lastAttemptAt ?? job.nextAt) < before)
        ops.push({ type: 'del', sublevel: 'notify', key });
    return { ops, count: ops.length };
  }

  async pending(): Promise<NotifyJob[]> {
    return this.deps.db.values<NotifyJob>('notify');
  }

  private async attempt(job: NotifyJob): Promise<void> {
    const { log, db, now } = this.deps;
    try {
      if (job.mail) await this.sendMail(job.mail);
      else if (!job.notice) throw new Error('job has nothing to send');
      else if (job.channel === 'email') await this.sendEmail(job.notice);
      else await this.sendWebhook(job.notice);
      await db.del('notify', job.id);
      this.stats.sent += 1;
    } catch (error) {
      const attempts = job.attempts + 1;
      const failed = attempts > (this.deps.config.retries ?? 5);
      const next: NotifyJob = {
        ...job,
        attempts,
        lastAttemptAt: now(),
        nextAt: now() + (this.deps.config.retryDelaySeconds ?? 30) * 1000 * 2 ** (attempts - 1),
        lastError: (error as Error).message.slice(0, 300),
        ...(failed ? { failed: true } : {}),
      };
      await db.put('notify', job.id, next);
      if (failed) {
        this.stats.failed += 1;
        log.error(
          {
            channel: job.channel,
            ref: job.notice ? refOf(job.notice) : 'account mail',
            attempts,
            err: error,
          },
          'notification gave up',
        );
      } else {
        this.stats.retried += 1;
        log.warn(
          {
            channel: job.channel,
            ref: job.notice ? refOf(job.notice) : 'account mail',
            attempts,
            err: error,
          },
          'notification failed; will retry',
        );
      }
    }
  }

  private async sendEmail(notice: Message): Promise<void> {
    const email = this.deps.config.email;
    if (!this.transport || !email) throw new Error('email not configured');
    const { subject, text } = notice.event === 'audit-anchor' ? anchorEmail(notice) : emailFor(notice);
    await this.transport.sendMail({ from: email.from, to: this.recipients(notice), subject, text });
  }

  private async sendMail(mail: AccountMail): Promise<void> {
    const email = this.deps.config.email;
    if (!this.transport || !email) throw new Error('email not configured');
    await this.transport.sendMail({ from: email.from, to: mail.to, subject: mail.subject, text: mail.text });
  }

  private async sendWebhook(notice: Message): Promise<void> {
    const webhook = this.deps.config.webhook;
    if (!webhook) throw new Error('webhook not configured');
    const type = isAlert(notice)
      ? 'account.attack'
      : notice.event === 'audit-anchor'
        ? 'audit.anchor'
        : `incident.${notice.event}`;
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
