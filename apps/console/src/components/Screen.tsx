import { useEffect } from 'react';
import type { ReactNode } from 'react';

/** A screen's frame: its h1 (which also becomes the tab title) and optional actions beside it. */
export function Screen({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Tresor console`;
  }, [title]);
  return (
    <section className="screen" aria-labelledby="screen-title">
      <header className="screen-header">
        <h1 id="screen-title" tabIndex={-1}>{title}</h1>
        {actions && <div className="screen-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}
