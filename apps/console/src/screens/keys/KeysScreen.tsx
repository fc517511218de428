// Keys: the repository's KEK versions (state, age against cryptoperiod, rotate-by), the key
// providers in use, and warnings for versions due or overdue for rotation. GET /v1/keys never
// carries key material: slot types and ids only, and who holds recovery shares.
import { useApi } from '../../api/useApi';
import { DataTable } from '../../components/DataTable';
import { LoadState } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { PROVIDER_NAMES, cryptoperiodTone, slotText } from './keys';
import type { KekVersionOverview, KeysOverview } from './keys';
import './keys.css';

const columns = [
  { key: 'version', header: 'Version', numeric: true, cell: (v: KekVersionOverview) => v.version },
  { key: 'state', header: 'State', cell: (v: KekVersionOverview) => <StatusBadge status={v.state} tone={v.state === 'active' ? 'ok' : 'neutral'} /> },
  { key: 'created', header: 'Created', cell: (v: KekVersionOverview) => <Time value={v.createdAt} /> },
  { key: 'age', header: 'Age', numeric: true, cell: (v: KekVersionOverview) => `${v.ageDays} d` },
  { key: 'period', header: 'Cryptoperiod', numeric: true, cell: (v: KekVersionOverview) => `${v.cryptoperiodDays} d${v.defaulted ? ' (default)' : ''}` },
  { key: 'rotateBy', header: 'Rotate by', cell: (v: KekVersionOverview) => <Time value={v.rotateBy} /> },
  { key: 'left', header: 'Days left', numeric: true, cell: (v: KekVersionOverview) => (v.state === 'active' ? `${v.daysLeft} d` : '—') },
  { key: 'status', header: 'Cryptoperiod status', cell: (v: KekVersionOverview) => <StatusBadge status={v.status} tone={cryptoperiodTone(v.status)} /> },
  { key: 'slots', header: 'Providers (slots)', cell: (v: KekVersionOverview) => v.slots.map(slotText).join(', ') },
];

/** The Keys screen. */
export function KeysScreen() {
  const keys = useApi<{ keys: KeysOverview }>('/keys');
  const k = keys.data?.keys;
  return (
    <Screen title="Keys">
      <LoadState loading={keys.loading} error={keys.error} what="key versions" />
      {k && (
        <>
          {k.warnings.map((w) => (
            // A version due soon is a warning to plan for; one past its cryptoperiod is an alert.
            <p key={w} className={`notice ${/ is past /.test(w) ? 'notice-error' : 'notice-warn'}`} role={/ is past /.test(w) ? 'alert' : 'status'}>
              {w}
            </p>
          ))}
          <section className="panel" aria-labelledby="providers-title">
            <h2 id="providers-title">Key providers</h2>
            <ul>
              {k.providers.map((p) => (
                <li key={p.type}>
                  {PROVIDER_NAMES[p.type] ?? p.type}: active version{p.versions.length > 1 ? 's' : ''} {p.versions.join(', ')}
                </li>
              ))}
            </ul>
            <p className="muted">
              Repository <code>{k.repositoryId}</code>; a version is reported as due {k.warnDays} days before its cryptoperiod ends. Read <Time value={k.generatedAt} />.
            </p>
          </section>
          <DataTable caption="Key-encryption key versions" showCaption columns={columns} rows={[...k.versions].reverse()} rowKey={(v) => String(v.version)} />
          <section className="panel" aria-labelledby="rotation-title">
            <h2 id="rotation-title">Rotation and rewrap</h2>
            <p>
              The cluster runs no rotate or rewrap jobs: they need the keys, which the console and the gateway never hold. On a host with the
              keys, <code>tresor keys rotate</code> creates a new version (new backups are wrapped for it) and <code>tresor keys rewrap</code> moves
              the existing backups' data keys to it; both are audited, and the new version shows here.
            </p>
          </section>
        </>
      )}
    </Screen>
  );
}
