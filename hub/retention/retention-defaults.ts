/**
 * D2: the retention period of every kind of data, with its default filled in, and the schedule in plain words for the
 * dashboard (no rule ids: staff read it). Pure.
 *
 * Why these defaults (the seeds give two periods, seed 001: email "automatically deleted 24 months after being
 * received"; CCTV "retained ... for 28 days"):
 * - Monitoring data (raw device events, each locker's timeline, notices that could not be sent) is kept like CCTV,
 *   28 days: long enough to look into a complaint or a fault, short enough that nobody's day is kept for long.
 * - Records of staff decisions (exemptions, confiscations) and the compliance figures governors monitor are kept like
 *   email, 24 months: two school years of termly reports to compare.
 * - Closed incidents and the audit log: the seeds are silent. Six years (2190 days), the common schedule for
 *   safeguarding and incident logs in UK schools (current year + 6), and the audit log as long as the incidents it
 *   records, so a kept incident keeps its trail.
 * - Backups: the seeds ask for a daily backup and say nothing of how many; two weeks of daily backups (14) lets a
 *   mistake noticed after a half-term week be undone.
 */
import type { RetentionConfig } from '../../schemas/config.js';

export type RetentionKind = Exclude<keyof RetentionConfig, 'runAt'>;
export type Retention = Required<Pick<RetentionConfig, RetentionKind>>;

export const DEFAULT_RETENTION: Retention = {
  rawEventsDays: 28,
  aggregatesDays: 730,
  closedIncidentsDays: 2190,
  auditDays: 2190,
  complianceTimelineDays: 28,
  exemptionsDays: 730,
  confiscationsDays: 730,
  notificationJobsDays: 28,
};

export const DEFAULT_BACKUPS_KEPT = 14;
/** Retention runs after the daily backup (02:00), so the night's archive still holds what the run removes. */
export const DEFAULT_RETENTION_RUN_AT = '03:00';

export function resolveRetention(config: RetentionConfig | undefined): Retention {
  const out = { ...DEFAULT_RETENTION };
  for (const kind of Object.keys(DEFAULT_RETENTION) as RetentionKind[]) {
    const days = config?.[kind];
    if (days !== undefined) out[kind] = days;
  }
  return out;
}

/** One line of the schedule the dashboard shows: what, how long, and what is never removed. */
export interface RetentionLine {
  what: string;
  keptFor: string;
  note: string;
}

const WHAT: Record<RetentionKind, { what: string; note: string }> = {
  rawEventsDays: {
    what: 'Device events (reports, locker changes, heartbeats) in the time-series store',
    note: '',
  },
  aggregatesDays: { what: 'Compliance figures and report counts', note: '' },
  closedIncidentsDays: {
    what: 'Reports and tamper incidents',
    note: 'Counted from when the incident was closed. Open incidents are never removed.',
  },
  auditDays: {
    what: 'Audit log',
    note: 'Removed only up to a fingerprint already sent away from the hub, so the rest can still be checked.',
  },
  complianceTimelineDays: {
    what: 'Locker timelines behind the compliance figures',
    note: "Each locker's last known state is kept; a term's records stay until the term has ended.",
  },
  exemptionsDays: {
    what: 'Exemptions, emergency releases and stored-phone releases',
    note: 'Counted from when they ended.',
  },
  confiscationsDays: {
    what: 'Confiscations',
    note: 'Counted from the return. A phone not yet returned is never removed.',
  },
  notificationJobsDays: { what: 'Notifications that could not be sent', note: '' },
};

export function describeDays(days: number): string {
  if (days >= 36_500) return 'kept';
  if (days % 365 === 0) return days === 365 ? '1 year' : `${days / 365} years`;
  if (days % 30 === 0 && days >= 60) return `${days / 30} months`;
  return days === 1 ? '1 day' : `${days} days`;
}

/** The schedule in plain words, kinds in the order staff think of them, then the backups. */
export function retentionSchedule(retention: Retention, backupsKept: number | null): RetentionLine[] {
  const order: RetentionKind[] = [
    'closedIncidentsDays',
    'auditDays',
    'confiscationsDays',
    'exemptionsDays',
    'aggregatesDays',
    'complianceTimelineDays',
    'rawEventsDays',
    'notificationJobsDays',
  ];
  const lines = order.map((kind) => ({ ...WHAT[kind], keptFor: describeDays(retention[kind]) }));
  lines.push({
    what: 'Backups',
    keptFor: backupsKept === null ? 'not scheduled' : `the newest ${backupsKept}`,
    note:
      backupsKept === null
        ? 'No daily backup is configured on this hub.'
        : 'One a day; older ones are deleted.',
  });
  return lines;
}
