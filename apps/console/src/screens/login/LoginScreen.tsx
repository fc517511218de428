// Login: LDAP (or break-glass) username and password; single sign-on when the gateway has it.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError, api } from '../../api/client';
import type { TokenPair } from '../../api/session';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';

/** The login form; `onLoggedIn` receives the issued token pair. */
export function LoginScreen({ onLoggedIn, notice }: { onLoggedIn: (tokens: TokenPair) => Promise<void>; notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onLoggedIn(await api<TokenPair>('/auth/login', { method: 'POST', body: { username, password } }));
    } catch (cause) {
      setError(cause instanceof ApiError ? cause.message : 'login failed');
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
      </form>
    </main>
  );
}
