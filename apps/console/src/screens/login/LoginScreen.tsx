// Login: LDAP (or break-glass) username and password; single sign-on when the gateway has it.
import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, api } from '../../api/client';
import type { TokenPair } from '../../api/session';
import { finishSso, isSsoCallback, startSso } from '../../auth/sso';
import type { SsoSettings } from '../../auth/sso';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';

const messageOf = (cause: unknown) => (cause instanceof ApiError || cause instanceof Error ? cause.message : 'login failed');

/** The login form; `onLoggedIn` receives the issued token pair. */
export function LoginScreen({ onLoggedIn, notice }: { onLoggedIn: (tokens: TokenPair) => Promise<void>; notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [sso, setSso] = useState<SsoSettings>();
  const navigate = useNavigate();
  const callbackHandled = useRef(false);

  useEffect(() => {
    // Back from the OpenID provider: redeem the code once (StrictMode runs effects twice in development).
    if (isSsoCallback() && !callbackHandled.current) {
      callbackHandled.current = true;
      setBusy(true);
      finishSso()
        .then(async (tokens) => {
          navigate('/', { replace: true });
          await onLoggedIn(tokens);
        })
        .catch((cause: unknown) => {
          navigate('/', { replace: true });
          setError(messageOf(cause));
        })
        .finally(() => setBusy(false));
    }
    // The SSO button shows only when the gateway has a provider configured.
    api<SsoSettings>('/auth/oidc')
      .then(setSso)
      .catch(() => setSso(undefined));
  }, [navigate, onLoggedIn]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onLoggedIn(await api<TokenPair>('/auth/login', { method: 'POST', body: { username, password } }));
    } catch (cause) {
      setError(messageOf(cause));
      setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login" id="main">
      <form className="login-card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">Tresor console</h1>
        {notice && !error && <Notice kind="info">{notice}</Notice>}
        {error && <Notice kind="error">{error}</Notice>}
        <Field label="Username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        {sso && (
          <>
            <p className="login-divider">or</p>
            <button type="button" className="button secondary" disabled={busy} onClick={() => void startSso(sso).catch((cause: unknown) => setError(messageOf(cause)))}>
              Log in with single sign-on
            </button>
          </>
        )}
      </form>
    </main>
  );
}
