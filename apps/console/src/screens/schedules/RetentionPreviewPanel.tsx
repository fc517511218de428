// The retention policy being edited and what it would do to a source's backups now: each kept
// backup with the rules that keep it, each removed one with why (POST /v1/retention/preview, the
// same rules as `tresor forget`). A preview removes nothing.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../../api/client';
import { Bytes } from '../../components/Bytes';
import { DataTable } from '../../components/DataTable';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { Time } from '../../components/Time';
import { COUNT_RULES, EMPTY_POLICY, POLICY_ERROR_HINTS, placeError, policyRequest } from './schedules';
import type { PolicyForm, PreviewedBackup, RetentionPreview } from './schedules';

const FIELDS = [...COUNT_RULES.map(([key]) => key), 'keepWithin', 'keepTags', 'timeZone'] as const;
type PolicyField = (typeof FIELDS)[number];

const columns = (verdict: 'keep' | 'remove') => [
  { key: 'created', header: 'Created', cell: (b: PreviewedBackup) => <Time value={b.createdAt} /> },
  { key: 'id', header: 'Backup', cell: (b: PreviewedBackup) => <code>{b.id}</code> },
  { key: 'level', header: 'Level', cell: (b: PreviewedBackup) => b.level },
  { key: 'size', header: 'Stored', numeric: true, cell: (b: PreviewedBackup) => <Bytes value={b.bytesStored} /> },
  { key: 'why', header: verdict === 'keep' ? 'Kept by' : 'Removed because', cell: (b: PreviewedBackup) => b.reasons.join('; ') },
];

/** Policy fields, a Preview button, and the kept and removed backups of `source`. */
export function RetentionPreviewPanel({ source }: { source: string }) {
  const [policy, setPolicy] = useState<PolicyForm>(EMPTY_POLICY);
  const [errors, setErrors] = useState<Partial<Record<PolicyField, string>>>({});
  const [formError, setFormError] = useState<string>();
  const [result, setResult] = useState<RetentionPreview>();
  const [busy, setBusy] = useState(false);
  const set = (key: PolicyField, value: string) => {
    setPolicy((p) => ({ ...p, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
  };

  async function preview(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(undefined);
    try {
      setResult(await api<RetentionPreview>('/retention/preview', { method: 'POST', body: { source, policy: policyRequest(policy) } }));
    } catch (cause) {
      setResult(undefined);
      const { field, message } = placeError(cause, FIELDS, POLICY_ERROR_HINTS);
      if (field) setErrors({ [field]: message });
      else setFormError(message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="retention-title">
      <h2 id="retention-title">Retention policy preview</h2>
      <p className="muted">
        Which backups of <code>{source || '(choose a source)'}</code> this policy would keep, and why. Nothing is removed here; <code>tresor forget</code> applies a policy.
      </p>
      <form onSubmit={(e) => void preview(e)} noValidate>
        <div className="retention-rules">
          {COUNT_RULES.map(([key, label]) => (
            <Field key={key} label={label} inputMode="numeric" value={policy[key]} error={errors[key]} onChange={(e) => set(key, e.target.value)} />
          ))}
          <Field label="Keep within" hint="e.g. 30d, 1y6m" value={policy.keepWithin} error={errors.keepWithin} onChange={(e) => set('keepWithin', e.target.value)} />
          <Field label="Keep tags" hint="comma-separated" value={policy.keepTags} error={errors.keepTags} onChange={(e) => set('keepTags', e.target.value)} />
          <Field label="Calendar time zone" hint="default UTC" value={policy.timeZone} error={errors.timeZone} onChange={(e) => set('timeZone', e.target.value)} />
        </div>
        {formError && <Notice kind="error">{formError}</Notice>}
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy || !source}>
            {busy ? 'Previewing…' : 'Preview retention'}
          </button>
        </div>
      </form>
      {result && (
        <div className="retention-result" aria-live="polite">
          <p>
            <strong>{result.keep.length}</strong> kept, <strong>{result.remove.length}</strong> would be removed.
          </p>
          <DataTable caption="Backups the policy keeps" showCaption columns={columns('keep')} rows={result.keep} rowKey={(b) => b.id} empty="The policy keeps no backup of this source." />
          <DataTable caption="Backups the policy would remove" showCaption columns={columns('remove')} rows={result.remove} rowKey={(b) => b.id} empty="Nothing would be removed." />
        </div>
      )}
    </section>
  );
}
