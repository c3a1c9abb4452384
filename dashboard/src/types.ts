/**
 * The dashboard's view of the hub's API: every answer's type is the Static<> type of the schema its route publishes
 * in /api/openapi.json (schemas/api.ts), imported with `import type` (esbuild strips these, so neither TypeBox nor any
 * server code reaches the bundle). None is restated here.
 */

export type {
  AuditRow,
  BackupView,
  BaselineView,
  ComplianceResult,
  ComplianceRow,
  Confiscation,
  DeviceView,
  ExemptionView,
  FailedNotice,
  Inbox,
  Incident,
  IncidentDetail,
  IncidentStatsView,
  IncidentStep,
  IncidentSummary,
  IssuedToken,
  PendingView,
  PolicyView,
  PublicDevice,
  PublicToken,
  ReleaseRecord,
  RetentionView,
  Rollout,
  SoftwareStatus,
  UserView,
  VerifyResult,
} from '../../schemas/api.js';
export type { SchoolModel } from '../../schemas/config.js';
export type { LockerMode } from '../../schemas/messages.js';

import type { IncidentNotice, IncidentSummary, ReleaseRecord, Rollout } from '../../schemas/api.js';
import type { TimeKind, ZoneKind } from '../../schemas/config.js';
import type { LockerMode } from '../../schemas/messages.js';

/** An inbox row: a summary, or (for the head, before the coordinator or DSL has read a report) only that it exists. */
export type InboxItem = IncidentSummary | IncidentNotice;
export const isRestricted = (item: InboxItem): item is IncidentNotice => 'restricted' in item;

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

/** GET /api/updates: the releases the hub holds and the current (or last) roll-out. */
export interface FleetUpdatesView {
  releases: ReleaseRecord[];
  rollout: Rollout | null;
}
