/**
 * Roles and permissions: the one table that says who may do what. Every gateway route names the
 * permission it needs (`@RequirePermission`), and docs/security.md shows this table to auditors.
 */

export const ROLES = ['admin', 'operator', 'auditor', 'custodian', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'sources:read',
  'backups:read',
  'backups:create',
  'backups:verify',
  'restores:read',
  'restores:create',
  'jobs:read',
  'events:read',
  'schedules:read',
  'schedules:write',
  'storage:read',
  'health:read',
  'keys:read',
  'tokens:manage',
  'audit:read',
  'approvals:read',
  'approvals:decide',
  'alerts:read',
  'drills:read',
  'drills:run',
  'compliance:read',
  'repository:fsck',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** events:read streams job progress (GET /v1/events), filtered like the jobs themselves. */
const READ: Permission[] = ['sources:read', 'backups:read', 'restores:read', 'jobs:read', 'events:read', 'schedules:read', 'health:read'];
/** Assurance evidence (alerts, drill results, the compliance report, KEK ages): what operators and auditors read, not viewers. */
const ASSURANCE: Permission[] = ['alerts:read', 'drills:read', 'compliance:read', 'keys:read'];

/**
 * What each role may do. Admins run the service but cannot approve restores (approvals:decide):
 * dual control needs custodians other than the people who administer the system (PCI DSS 3.6.1.2).
 * Running a restore drill (drills:run) is an operator action: it decrypts a backup into scratch space.
 * Checking and repairing the repository (repository:fsck) deletes objects: admins only.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: [...READ, ...ASSURANCE, 'backups:create', 'backups:verify', 'restores:create', 'schedules:write', 'storage:read', 'tokens:manage', 'audit:read', 'approvals:read', 'drills:run', 'repository:fsck'],
  operator: [...READ, ...ASSURANCE, 'backups:create', 'backups:verify', 'restores:create', 'schedules:write', 'storage:read', 'drills:run'],
  auditor: [...READ, ...ASSURANCE, 'storage:read', 'audit:read', 'approvals:read'],
  custodian: ['sources:read', 'backups:read', 'restores:read', 'jobs:read', 'events:read', 'health:read', 'approvals:read', 'approvals:decide'],
  viewer: READ,
};

/** Whether any of the roles grants the permission. */
export function rolesAllow(roles: readonly Role[], permission: Permission): boolean {
  return roles.some((r) => ROLE_PERMISSIONS[r]?.includes(permission));
}

/** The union of the roles' permissions, sorted. */
export function permissionsOf(roles: readonly Role[]): Permission[] {
  return PERMISSIONS.filter((p) => rolesAllow(roles, p));
}

/** `*` grants every tenant. */
export const ALL_TENANTS = '*';

/** Whether a set of granted tenants includes the tenant. */
export function tenantAllowed(granted: readonly string[], tenant: string): boolean {
  return granted.includes(ALL_TENANTS) || granted.includes(tenant);
}
