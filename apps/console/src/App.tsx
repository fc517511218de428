// The logged-in layout: skip link, header (user, roles, logout), navigation built from ROUTES
// (only what the user's roles allow) and the screen.
import { useEffect, useRef } from 'react';
import { NavLink, Route, Routes, useLocation } from 'react-router';
import { useSession } from './auth/session-context';
import { Notice } from './components/Notice';
import { Screen } from './components/Screen';
import { ROUTES } from './routes';
import type { ConsoleRoute } from './routes';

/** Header, navigation and the current screen. */
export function App() {
  const { me, can, logout } = useSession();
  const allowed = ROUTES.filter((r) => can(r.permission));
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After navigating, move focus to the new screen's heading so keyboard and screen-reader users land there.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [location.pathname]);

  return (
    <div className="layout">
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <span className="brand">Tresor console</span>
        <div className="user" aria-label="Signed-in user">
          <span className="user-name">{me.name}</span>
          <span className="user-roles">{me.roles.join(', ')}</span>
          <button type="button" className="button secondary" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <nav className="sidenav" aria-label="Screens">
        <ul>
          {allowed
            .filter((r) => r.nav !== false)
            .map((r) => (
              <li key={r.path}>
                <NavLink to={r.path} end={r.path === '/'}>
                  {r.label}
                </NavLink>
              </li>
            ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        <Routes>
          {ROUTES.map((r) => (
            <Route key={r.path} path={r.path} element={can(r.permission) ? r.element : <Forbidden route={r} />} />
          ))}
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </div>
  );
}

function Forbidden({ route }: { route: ConsoleRoute }) {
  return (
    <Screen title={route.label}>
      <Notice kind="error">Your roles do not allow this screen (it needs the {route.permission} permission).</Notice>
    </Screen>
  );
}

function NotFound() {
  return (
    <Screen title="Not found">
      <Notice kind="info">There is no screen at this address.</Notice>
    </Screen>
  );
}
