import type { ReactNode } from 'react';
import { useSession } from '../auth/session-context';

/** Renders `children` only when the user's roles grant `permission` (the gateway still enforces it). */
export function Can({ permission, children, fallback = null }: { permission: string; children: ReactNode; fallback?: ReactNode }) {
  return <>{useSession().can(permission) ? children : fallback}</>;
}
