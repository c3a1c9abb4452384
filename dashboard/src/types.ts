/**
 * The dashboard's view of the hub's API, typed from the hub's own modules with `import type` (esbuild strips these,
 * so no server code reaches the bundle). Shapes the hub builds inline in a route are restated here beside it.
 */
import type { AuditRow, ReaderVerifyResult as VerifyResult } from '../../hub/audit/audit-view.js';
import type { Confiscation } from '../../hub/confiscations/confiscations.js';
import type { PublicDevice } from '../../hub/devices/device-registry.js';
import type { PublicToken } from '../../hub/devices/enrolment.js';
import type { IncidentSummary } from '../../hub/event-bus.js';
import type { IncidentStats } from '../../hub/incidents/incident-stats.js';
import type { Incident, IncidentStep } from '../../hub/incidents/incident-store.js';
import type { IncidentNotice } from '../../hub/incidents/visibility.js';
import type { DeviceView } from '../../hub/live/live-grid.js';
import type { DayStatus } from '../../hub/policy/calendar.js';
import type { Emergency, Exemption, ExemptionStatus } from '../../hub/policy/exemptions.js';
import type { Directive } from '../../hub/policy/policy-engine.js';
import type { PendingView } from '../../hub/users/account-changes.js';
import type { UserView } from '../../hub/users/user-store.js';
import type { SchoolModel, TimeKind, ZoneKind } from '../../schemas/config.js';
import type { LockerMode } from '../../schemas/messages.js';

export type {
  AuditRow,
  Confiscation,
  DeviceView,
  Incident,
  IncidentStep,
  IncidentSummary,
  LockerMode,
  PendingView,
  PublicDevice,
  PublicToken,
  SchoolModel,
  UserView,
  VerifyResult,
};

/** GET /api/policy (hub/http/routes/policy-routes.ts). */
export interface PolicyView {
  site: string;
  name: string;
  timetable: SchoolModel['timetable'];
  zones: SchoolModel['zones'];
  rooms: SchoolModel['rooms'];
  policy: SchoolModel['policy'];
  /** Per section, what an editor sends back as If-Match: a save over someone else's newer change is refused. */
  versions?: Partial<Record<'timetable' | 'zones-rooms' | 'policy', string>>;
  today: { date: string; status: DayStatus };
  now: {
    date: string;
    timeKind: TimeKind;
    period: string | null;
    nextBoundary: number;
    emergency: Emergency | null | undefined;
  };
  devices: { id: string; room: string; lockerMode: LockerMode; directive: Directive }[];
}

/** GET /api/exemptions: the record plus its status now ('expired' derived). */
export type ExemptionView = Exemption & { status: ExemptionStatus };

/** An inbox row: a summary, or (for the head, before the coordinator or DSL has read a report) only that it exists. */
export type InboxItem = IncidentSummary | IncidentNotice;
export const isRestricted = (item: InboxItem): item is IncidentNotice => 'restricted' in item;

/** GET /api/incidents/stats?from=&to= (R5): figures only. */
export type IncidentStatsView = IncidentStats & { from: string; to: string };

/** GET /api/incidents/:id: the incident with its chronology (`steps`, oldest first). */
export type IncidentDetail = Incident & { ageMs: number };

/** GET /api/compliance: InfluxDB rows of compliance_<level>, one object per row keyed by column. */
export interface ComplianceResult {
  level: 'lesson' | 'day' | 'week' | 'term';
  from: string;
  to: string;
  columns: string[];
  rows: ComplianceRow[];
}
export interface ComplianceRow {
  time: number | string;
  room: string;
  device?: string;
  period?: string;
  term?: string;
  date?: string;
  lessons?: number;
  scheduled_min?: number;
  due_min?: number;
  locked_closed_min?: number;
  exempt_min?: number;
  offline_min?: number;
  breach_min?: number;
  tamper_count?: number;
  ratio?: number;
  [column: string]: unknown;
}

/** Locker modes, restated (the schema module would pull TypeBox into the bundle); checked against the type. */
export const LOCKER_MODES = ['lesson', 'day-storage', 'open'] as const satisfies readonly LockerMode[];
export const TIME_KINDS = [
  'before-school',
  'registration',
  'assembly',
  'lesson',
  'break',
  'lunch',
  'after-school',
  'closed',
] as const satisfies readonly TimeKind[];
export const ZONE_KINDS = [
  'curriculum',
  'designated-phone-area',
  'office',
] as const satisfies readonly ZoneKind[];
