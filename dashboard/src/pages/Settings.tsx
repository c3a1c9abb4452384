/**
 * Settings: timetable, zones and rooms, the policy preset and matrix (P8), the exemptions register (P6), accounts and
 * roles (S1, S5), approvals of account changes (S5), the audit log with its chain check (S6) and the data retention
 * schedule (D2). Each section is shown only to the roles that may use it.
 */
import type { Permission } from '../../../hub/users/roles.js';
import { Notice } from '../components/Field.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { useSchool } from '../school.js';
import { Accounts } from './settings/Accounts.js';
import { Approvals } from './settings/Approvals.js';
import { AuditLogView } from './settings/AuditLog.js';
import { Exemptions } from './settings/Exemptions.js';
import { PolicyEditor } from './settings/PolicyEditor.js';
import { RetentionSchedule } from './settings/Retention.js';
import { PolicyMatrix, RoomsView, TimetableView } from './settings/SchoolViews.js';
import { TimetableEditor } from './settings/TimetableEditor.js';
import { TrustBaselineDifferences } from './settings/TrustBaseline.js';
import { ZonesRoomsEditor } from './settings/ZonesRoomsEditor.js';

const TABS: { id: string; label: string; permission: Permission }[] = [
  { id: 'timetable', label: 'Timetable', permission: 'policy:read' },
  { id: 'rooms', label: 'Zones and rooms', permission: 'policy:read' },
  { id: 'policy', label: 'Policy', permission: 'policy:read' },
  { id: 'exemptions', label: 'Exemptions', permission: 'policy:read' },
  { id: 'accounts', label: 'Accounts', permission: 'users:read' },
  { id: 'approvals', label: 'Approvals', permission: 'accounts:approve' },
  { id: 'audit', label: 'Audit log', permission: 'audit:read' },
  { id: 'retention', label: 'Data retention', permission: 'audit:read' },
];

export function Settings({ tab }: { tab: string | undefined }) {
  const live = useLive();
  const tabs = TABS.filter((t) => live.may(t.permission));
  const current = tabs.find((t) => t.id === tab) ?? tabs[0];
  const { policy, error, reload: load } = useSchool(live.may('policy:read'));
  // S5: the administrator edits the school model; every other role reads it.
  const edit = live.may('school:write');

  return (
    <section aria-labelledby="settings-heading">
      <h1 id="settings-heading">Settings</h1>
      <nav aria-label="Settings sections" class="tabs">
        <ul>
          {tabs.map((t) => (
            <li key={t.id}>
              <a href={href('settings', t.id)} aria-current={current?.id === t.id ? 'page' : undefined}>
                {t.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <Notice error={error} />
      {current?.id === 'accounts' ? (
        <Accounts />
      ) : current?.id === 'approvals' ? (
        <Approvals />
      ) : current?.id === 'audit' ? (
        <AuditLogView />
      ) : current?.id === 'retention' ? (
        <RetentionSchedule />
      ) : !policy ? (
        <p>Loading…</p>
      ) : current?.id === 'rooms' ? (
        edit ? (
          <ZonesRoomsEditor policy={policy} onSaved={load} />
        ) : (
          <RoomsView policy={policy} />
        )
      ) : current?.id === 'policy' ? (
        <>
          {edit ? <PolicyEditor policy={policy} onSaved={load} /> : <PolicyMatrix policy={policy} />}
          {/* Keyed by the policy's version: a saved change re-reads how the school now differs. */}
          <TrustBaselineDifferences key={policy.versions.policy} />
        </>
      ) : current?.id === 'exemptions' ? (
        <Exemptions policy={policy} />
      ) : edit ? (
        <TimetableEditor policy={policy} onSaved={load} />
      ) : (
        <TimetableView policy={policy} />
      )}
    </section>
  );
}
