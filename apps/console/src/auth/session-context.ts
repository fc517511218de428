// The logged-in user as React context: who, which roles and permissions (from GET /v1/auth/me).
import { createContext, useContext } from 'react';

/** GET /v1/auth/me. */
export interface Me {
  subject: string;
  name: string;
  kind: 'ldap' | 'local' | 'token' | 'oidc';
  roles: string[];
  tenants: string[];
  permissions: string[];
}

/** What screens may ask of the session. */
export interface SessionValue {
  me: Me;
  /** Whether the user's roles grant the permission (the gateway enforces it again). */
  can: (permission: string) => boolean;
  logout: () => Promise<void>;
}

export const SessionContext = createContext<SessionValue | null>(null);

/** The session of the logged-in user; only inside the logged-in layout. */
export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession() outside a logged-in session');
  return value;
}
