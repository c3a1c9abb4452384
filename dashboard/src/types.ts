/**
 * The dashboard's view of the hub's API, typed from the hub's own modules with `import type` (esbuild strips these,
 * so no server code reaches the bundle). Shapes a route builds are declared in that route's module, where tsc checks
 * them against what it sends, and imported from there: none is restated here.
 */
import type { AuditRow, ReaderVerifyResult as VerifyResult } from '../../hub/audit/audit-view.js';
import type { Confiscation } from '../../hub/confiscations/confiscations.js';
import type { PublicDevice } from '../../hub/devices/device-registry.js';
import type { PublicToken } from '../../hub/devices/enrolment.js';
import type { IncidentSummary } from '../../hub/event-bus.js';
import type { ComplianceResult, ComplianceRow } from '../../hub/http/routes/compliance-routes.js';
import type {
  InboxView as Inbox,
  IncidentDetail,
  IncidentStatsView,
} from '../../hub/http/routes/incident-routes.js';
import type { FailedNotice } from '../../hub/http/routes/notification-routes.js';
import type { ExemptionView, PolicyView } from '../../hub/http/routes/policy-routes.js';
import type { Incident, IncidentStep } from '../../hub/incidents/incident-store.js';
import type { IncidentNotice } from '../../hub/incidents/visibility.js';
import type { DeviceView } from '../../hub/live/live-grid.js';
import type { Rollout } from '../../hub/updates/fleet-updates.js';
import type { ReleaseRecord } from '../../hub/updates/release-store.js';
import type { PendingView } from '../../hub/users/account-changes.js';
import type { UserView } from '../../hub/users/user-store.js';
import type { SchoolModel, TimeKind, ZoneKind } from '../../schemas/config.js';
import type { LockerMode } from '../../schemas/messages.js';

export type {
  AuditRow,
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
  LockerMode,
  PendingView,
  PolicyView,
  PublicDevice,
  PublicToken,
  SchoolModel,
  UserView,
  VerifyResult,
};

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
