/** Staff roles and what each may do (S5: least privilege). The one place permissions are decided for the API. */
export const STAFF_ROLES = ['office', 'teacher', 'coordinator', 'dsl', 'head', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const PERMISSIONS = {
  'compliance:read': ['office', 'coordinator', 'dsl', 'head', 'admin'],
  'devices:read': ['office', 'head', 'admin'],
  'rooms:read': ['office', 'teacher', 'coordinator', 'dsl', 'head', 'admin'],
  // R4: incidents are safeguarding records; admin alone may not read them (as in MyConcern).
  'incidents:read': ['coordinator', 'dsl', 'head'],
  'incidents:write': ['coordinator', 'dsl', 'head'],
} as const satisfies Record<string, readonly StaffRole[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(roles: readonly StaffRole[], permission: Permission): boolean {
  const allowed: readonly StaffRole[] = PERMISSIONS[permission];
  return roles.some((role) => allowed.includes(role));
}
