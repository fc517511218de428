// Create or edit a schedule. The server judges the values (cron syntax, time zone, interval);
// its one-line error is shown next to the field it is about. An edit (PUT) keeps the schedule's
// id and run history and starts its timing again from the new definition.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../../api/client';
import { Field, Labeled } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { EMPTY_SCHEDULE, SCHEDULE_ERROR_HINTS, placeError, formOf, scheduleRequest } from './schedules';
import type { ScheduleForm, ScheduleRecord } from './schedules';

const FIELDS = ['cron', 'timezone', 'everyMinutes', 'at', 'source'] as const;
const LEVELS = ['full', 'differential', 'incremental'] as const;

/** The schedule form; `editing` is the schedule it replaces, if any. */
export function ScheduleEditor({ editing, sources, onSaved, onCancel, onSourceChange }: { editing: ScheduleRecord | undefined; sources: string[]; onSaved: () => void; onCancel: () => void; onSourceChange: (source: string) => void }) {
  const [form, setForm] = useState<ScheduleForm>(() => (editing ? formOf(editing) : { ...EMPTY_SCHEDULE, source: sources[0] ?? '' }));
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<(typeof FIELDS)[number], string>>>({});
  const [formError, setFormError] = useState<string>();
  const set = <K extends keyof ScheduleForm>(key: K, value: ScheduleForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
    if (key === 'source') onSourceChange(value as string);
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(undefined);
    try {
      if (editing) await api(`/schedules/${encodeURIComponent(editing.id)}`, { method: 'PUT', body: scheduleRequest(form) });
      else await api('/schedules', { method: 'POST', body: scheduleRequest(form) });
      onSaved();
    } catch (cause) {
      const { field, message } = placeError(cause, FIELDS, SCHEDULE_ERROR_HINTS);
      if (field) setErrors({ [field]: message });
      else setFormError(message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="schedule-editor-title">
      <h2 id="schedule-editor-title">{editing ? 'Edit schedule' : 'New schedule'}</h2>
      {editing && (
        <p className="muted">
          Schedule <code>{editing.id}</code>: saving keeps its id and run history; its next run follows the new timing.
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="grid-2">
          <div>
            <Labeled label="Source" error={errors.source} hint="The directory the backups read.">
              {(props) => (
                <input {...props} list="schedule-sources" value={form.source} onChange={(e) => set('source', e.target.value)} placeholder="/etc/tresor/keys" />
              )}
            </Labeled>
            <datalist id="schedule-sources">
              {sources.map((s) => (
                <option key={s} value={s} />
              ))}
            </datalist>
            <Labeled label="Level">
              {(props) => (
                <select {...props} value={form.level} onChange={(e) => set('level', e.target.value as ScheduleForm['level'])}>
                  {LEVELS.map((l) => (
                    <option key={l} value={l}>{l}</option>
                  ))}
                </select>
              )}
            </Labeled>
            <Field label="Tags" hint="Comma-separated; retention can keep tagged backups." value={form.tags} onChange={(e) => set('tags', e.target.value)} />
          </div>
          <div>
            <Labeled label="Runs">
              {(props) => (
                <select {...props} value={form.kind} onChange={(e) => set('kind', e.target.value as ScheduleForm['kind'])}>
                  <option value="cron">on a cron timetable</option>
                  <option value="interval">every few minutes</option>
                  <option value="once">once</option>
                </select>
              )}
            </Labeled>
            {form.kind === 'cron' && (
              <>
                <Field label="Cron expression" hint="minute hour day-of-month month day-of-week, e.g. 0 2 * * *" value={form.cron} error={errors.cron} onChange={(e) => set('cron', e.target.value)} />
                <Field label="Time zone" hint="IANA name the expression is read in, e.g. Europe/Berlin" value={form.timezone} error={errors.timezone} onChange={(e) => set('timezone', e.target.value)} />
              </>
            )}
            {form.kind === 'interval' && <Field label="Every (minutes)" inputMode="decimal" value={form.everyMinutes} error={errors.everyMinutes} onChange={(e) => set('everyMinutes', e.target.value)} />}
            {form.kind === 'once' && <Field label="At (ISO 8601 with offset)" hint="e.g. 2026-12-01T02:00:00Z" value={form.at} error={errors.at} onChange={(e) => set('at', e.target.value)} />}
            <label className="checkbox">
              <input type="checkbox" checked={form.paused} onChange={(e) => set('paused', e.target.checked)} /> Create paused
            </label>
          </div>
        </div>
        {formError && <Notice kind="error">{formError}</Notice>}
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Saving…' : editing ? 'Save changes' : 'Create schedule'}
          </button>
          <button type="button" className="button secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
