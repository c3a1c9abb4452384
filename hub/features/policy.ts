/**
 * The phone policy (P1–P8, D5): exemptions, the driver that commands lockers and signage, the compliance recorder,
 * and school settings (timetable, rooms, policy edits), with their routes.
 */
import { topics } from '../../schemas/topics.js';
import { ComplianceRecorder, type ComplianceRecorderDeps } from '../compliance/compliance-recorder.js';
import { complianceRoutes } from '../http/routes/compliance-routes.js';
import { policyRoutes } from '../http/routes/policy-routes.js';
import { schoolRoutes } from '../http/routes/school-routes.js';
import { ExemptionStore } from '../policy/exemptions.js';
import { PolicyDriver } from '../policy/policy-driver.js';
import { dbSchoolPersistence, fileSchoolPersistence } from '../school/school-persistence.js';
import { SchoolSettings } from '../school/school-settings.js';
import type { HubCore } from './core.js';
import { type Feature, lifecycle } from './feature.js';

export interface PolicyFeature extends Feature {
  exemptions: ExemptionStore;
  driver: PolicyDriver;
  compliance: ComplianceRecorder;
  settings: SchoolSettings;
}

/** What the trust share (hub/features/trust.ts) hooks into, when the hub shares with a trust. */
export interface PolicyTrustHooks {
  complianceMirror?: ComplianceRecorderDeps['mirror'];
  schoolChanged?: () => Promise<void>;
  /** Set once the term under way has been sent to this trust store (ComplianceRecorder.mirrorTerm). */
  termSentMarker?: string;
}

export function policyFeature(core: HubCore, trust: PolicyTrustHooks = {}): PolicyFeature {
  const { school, db, bus, log, now, registry, broker, audit, store, outbox } = core;
  const exemptions = new ExemptionStore(db, school, audit);
  const driver = new PolicyDriver({
    school,
    registry,
    exemptions,
    bus,
    publish: (topic, payload, opts) => core.publish(topic, payload, opts),
    log: log.child({ part: 'policy' }),
    now,
    db,
    retainedCommands: () => broker.retained(topics.siteCommands(school.site)),
    sessionResumed: (id) => broker.sessionResumed(id),
  });
  const compliance = new ComplianceRecorder({
    school,
    registry,
    exemptions,
    db,
    bus,
    outbox,
    store,
    log: log.child({ part: 'compliance' }),
    now,
    mirror: trust.complianceMirror,
  });
  const settings = new SchoolSettings({
    school,
    persistence: core.schoolFile ? fileSchoolPersistence(core.schoolFile, db) : dbSchoolPersistence(),
    registry,
    audit,
    log: log.child({ part: 'school' }),
    changed: async (model) => {
      core.roomIds.clear();
      for (const r of model.rooms) core.roomIds.add(r.id);
      await Promise.all([driver.reload(), compliance.reload(), trust.schoolChanged?.()]);
    },
  });
  return {
    name: 'policy',
    exemptions,
    driver,
    compliance,
    settings,
    extensions: [
      driver,
      compliance,
      settings,
      // After the recorder's start-up catch-up; not awaited: the recorder's own chain orders it, stop() waits for it.
      ...(trust.termSentMarker
        ? [lifecycle('trust-term', async () => void compliance.mirrorTerm(trust.termSentMarker as string))]
        : []),
    ],
    routes: [
      policyRoutes({ school, exemptions, driver, bus }),
      complianceRoutes({ store, school }),
      schoolRoutes(settings),
    ],
  };
}
