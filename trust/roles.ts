/**
 * Trust roles and what each may read: the one place the trust dashboard decides who sees what. Least privilege, as
 * on a hub (S5): trust IT keeps the devices running and reads nothing about policy or pupils; trustees hold the
 * schools to account for the policy (compliance, rankings, how far each school departs from the baseline); the
 * trust leader reads everything, including the incident counts of schools that share them. Nobody writes anything
 * about a school: the trust tier is read-only, and its own accounts are the trust leader's to manage.
 */
export const TRUST_ROLES = ['trust-leader', 'trustee', 'trust-it'] as const;
export type TrustRole = (typeof TRUST_ROLES)[number];

export const TRUST_PERMISSIONS = {
  'compliance:read': ['trust-leader', 'trustee'],
  'devices:read': ['trust-leader', 'trust-it'],
  // Counts by category only, and only of schools that opted in; still the most sensitive figure here.
  'incidents:read': ['trust-leader'],
  'baseline:read': ['trust-leader', 'trustee'],
  'accounts:manage': ['trust-leader'],
} as const satisfies Record<string, readonly TrustRole[]>;
export type TrustPermission = keyof typeof TRUST_PERMISSIONS;

export function trustCan(roles: readonly TrustRole[], permission: TrustPermission): boolean {
  const allowed: readonly TrustRole[] = TRUST_PERMISSIONS[permission];
  return roles.some((r) => allowed.includes(r));
}

export const isTrustRole = (r: string): r is TrustRole => (TRUST_ROLES as readonly string[]).includes(r);

/** Plain words for the pages. */
export const ROLE_NAMES: Record<TrustRole, string> = {
  'trust-leader': 'Trust leader',
  trustee: 'Trustee',
  'trust-it': 'Trust IT',
};
