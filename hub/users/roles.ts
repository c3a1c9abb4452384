/** Staff roles and what each may do (S5: least privilege). The one place permissions are decided for the API. */
// governor: the chair of governors, who receives only concerns about the head (R6).
export const STAFF_ROLES = ['office', 'teacher', 'coordinator', 'dsl', 'head', 'admin', 'governor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const PERMISSIONS = {
  // R5: governors "regularly monitor" and read the evidence pack's figures (never an incident's content).
  'compliance:read': ['office', 'coordinator', 'dsl', 'head', 'admin', 'governor'],
  'devices:read': ['office', 'head', 'admin'],
  // S4: approving, revoking and re-keying devices, and issuing enrolment tokens.
  'devices:approve': ['admin'],
  // Fleet updates: upload a signed release, begin, widen and stop a roll-out.
  'updates:manage': ['admin'],
  // D3: take a backup of the running hub now, beside the daily one (the archive stays on the hub).
  'backups:run': ['admin'],
  'rooms:read': ['office', 'teacher', 'coordinator', 'dsl', 'head', 'admin'],
  // R4: incidents are safeguarding records; admin alone may not read them (as in MyConcern).
  // governor sees only incidents routed to it; per-incident visibility is hub/incidents/visibility.ts (R4, R6).
  'incidents:read': ['coordinator', 'dsl', 'head', 'governor'],
  'incidents:write': ['coordinator', 'dsl', 'head', 'governor'],
  // A governor routes a concern about the head onwards; nobody else may take it back from the governors (R6).
  'incidents:route': ['coordinator', 'dsl', 'governor'],
  'users:read': ['admin'],
  'users:write': ['admin'],
  // S5: a second person approves any change that grants, removes or resets a report-reading role's access.
  'accounts:approve': ['head', 'dsl'],
  'audit:read': ['admin', 'head'],
  // P8: every member of staff may see the policy and today's exemptions.
  // R5: governors too, for room names and terms in the evidence pack.
  'policy:read': ['office', 'teacher', 'coordinator', 'dsl', 'head', 'admin', 'governor'],
  // P1–P4, P8, S6: the timetable, zones and rooms, and the policy matrix. Admin alone (least privilege): the head
  // decides policy and the admin enters it; the head sees every change in the audit log and holds the levers that
  // act at once (exemptions, emergency release).
  'school:write': ['admin'],
  // P6: teachers ask, only the Headteacher authorises, withdraws, or releases every locker.
  'exemptions:request': ['teacher', 'coordinator', 'dsl', 'head'],
  'exemptions:grant': ['head'],
  'emergency:release': ['head'],
  // P7: the staff who confiscate and return phones; the office keeps the register.
  'confiscations:read': ['office', 'teacher', 'coordinator', 'dsl', 'head', 'admin'],
  'confiscations:write': ['teacher', 'coordinator', 'dsl', 'head'],
  // P7: the office hands confiscated phones back at the end of the day and records the return.
  'confiscations:return': ['office', 'teacher', 'coordinator', 'dsl', 'head'],
} as const satisfies Record<string, readonly StaffRole[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(roles: readonly StaffRole[], permission: Permission): boolean {
  const allowed: readonly StaffRole[] = PERMISSIONS[permission];
  return roles.some((role) => allowed.includes(role));
}
