// Owns the login state: restores the session of this tab from its refresh token, logs in
// (password or SSO), loads /v1/auth/me, and shows the login screen whenever the session ends.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { api, refreshSession } from '../api/client';
import { clearTokens, currentRefreshToken, onSessionEnd, storeTokens } from '../api/session';
import type { TokenPair } from '../api/session';
import { LoginScreen } from '../screens/login/LoginScreen';
import { Notice } from '../components/Notice';
import { SessionContext } from './session-context';
import type { Me, SessionValue } from './session-context';

type State = { phase: 'starting' } | { phase: 'anonymous'; reason?: string } | { phase: 'ready'; me: Me };

/** Renders `children` for a logged-in user, the login screen otherwise. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ phase: 'starting' });

  const loadMe = useCallback(async () => {
    const me = await api<Me>('/auth/me');
    setState({ phase: 'ready', me });
  }, []);

  useEffect(() => {
    const stop = onSessionEnd(() => setState({ phase: 'anonymous', reason: 'Your session ended: log in again.' }));
    if (!currentRefreshToken()) setState({ phase: 'anonymous' });
    else
      void refreshSession()
        .then((ok) => (ok ? loadMe() : setState({ phase: 'anonymous' })))
        .catch(() => setState({ phase: 'anonymous' }));
    return stop;
  }, [loadMe]);

  const loggedIn = useCallback(
    async (tokens: TokenPair) => {
      storeTokens(tokens);
      await loadMe();
    },
    [loadMe],
  );

  const logout = useCallback(async () => {
    // Revoke on the gateway first; forget locally even if it cannot be reached.
    await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
    clearTokens();
    setState({ phase: 'anonymous', reason: 'You have logged out.' });
  }, []);

  const value = useMemo<SessionValue | null>(() => {
    if (state.phase !== 'ready') return null;
    const granted = new Set(state.me.permissions);
    return { me: state.me, can: (p) => granted.has(p), logout };
  }, [state, logout]);

  if (state.phase === 'starting') return <Notice kind="loading">Restoring your session…</Notice>;
  if (!value) return <LoginScreen onLoggedIn={loggedIn} {...(state.phase === 'anonymous' && state.reason ? { notice: state.reason } : {})} />;
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
