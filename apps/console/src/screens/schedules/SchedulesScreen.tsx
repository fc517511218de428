// Schedules and policies: every backup schedule with its timing and next run; operators create,
// edit, pause, resume and run them now; the retention preview shows what a policy would keep.
import { useState } from 'react';
import { ApiError, api } from '../../api/client';
import { useApi } from '../../api/useApi';
import { Can } from '../../components/Can';
import { DataTable } from '../../components/DataTable';
import { LoadState, Notice } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { useSession } from '../../auth/session-context';
import { RetentionPreviewPanel } from './RetentionPreviewPanel';
import { ScheduleEditor } from './ScheduleEditor';
import { timingOf } from './schedules';
import type { ScheduleRecord } from './schedules';
import './schedules.css';

type Editing = { mode: 'closed' } | { mode: 'new' } | { mode: 'edit'; schedule: ScheduleRecord };

/** The Schedules and policies screen. */
export function SchedulesScreen() {
  const { can } = useSession();
  const schedules = useApi<{ schedules: ScheduleRecord[] }>('/schedules');
  const sources = useApi<{ sources: { location: string }[] }>('/sources');
  const [editing, setEditing] = useState<Editing>({ mode: 'closed' });
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string }>();
  const locations = (sources.data?.sources ?? []).map((s) => s.location);
  const [previewSource, setPreviewSource] = useState<string>();
  const source = previewSource ?? locations[0] ?? '';

  async function act(schedule: ScheduleRecord, verb: 'pause' | 'resume' | 'run') {
    setMessage(undefined);
    try {
      const answer = await api<{ job?: { id: string } }>(`/schedules/${encodeURIComponent(schedule.id)}/${verb}`, { method: 'POST' });
      setMessage({ kind: 'info', text: verb === 'run' ? `Backup job ${answer.job?.id ?? ''} submitted for ${schedule.backup.source?.location ?? schedule.id}.` : `Schedule ${schedule.id} ${verb === 'pause' ? 'paused' : 'resumed'}.` });
      schedules.reload();
    } catch (cause) {
      setMessage({ kind: 'error', text: cause instanceof ApiError ? cause.message : String(cause) });
    }
  }

  const columns = [
    { key: 'source', header: 'Source', cell: (s: ScheduleRecord) => <code>{s.backup.source?.location ?? '—'}</code> },
    { key: 'timing', header: 'Runs', cell: (s: ScheduleRecord) => timingOf(s) },
    { key: 'level', header: 'Level', cell: (s: ScheduleRecord) => s.backup.level ?? 'incremental' },
    { key: 'state', header: 'State', cell: (s: ScheduleRecord) => (s.paused ? <StatusBadge status="paused" tone="warn" /> : <StatusBadge status="active" tone="ok" />) },
    { key: 'next', header: 'Next run', cell: (s: ScheduleRecord) => (s.paused ? <span className="muted">paused</span> : <Time value={s.nextRunAt} />) },
    { key: 'last', header: 'Last run', cell: (s: ScheduleRecord) => <Time value={s.lastRunAt} /> },
    { key: 'fired', header: 'Runs so far', numeric: true, cell: (s: ScheduleRecord) => s.fired },
    ...(can('schedules:write') || can('backups:create')
      ? [
          {
            key: 'actions',
            header: 'Actions',
            cell: (s: ScheduleRecord) => (
              <div className="row-actions">
                <Can permission="schedules:write">
                  <button type="button" className="button secondary" onClick={() => setEditing({ mode: 'edit', schedule: s })} aria-label={`Edit schedule of ${s.backup.source?.location ?? s.id}`}>Edit</button>
                  <button type="button" className="button secondary" onClick={() => void act(s, s.paused ? 'resume' : 'pause')}>{s.paused ? 'Resume' : 'Pause'}</button>
                </Can>
                <Can permission="backups:create">
                  <button type="button" className="button secondary" onClick={() => void act(s, 'run')}>Run now</button>
                </Can>
              </div>
            ),
          },
        ]
      : []),
  ];

  return (
    <Screen
      title="Schedules and policies"
      actions={
        <Can permission="schedules:write">
          <button type="button" className="button" onClick={() => setEditing({ mode: 'new' })} disabled={editing.mode !== 'closed'}>
            New schedule
          </button>
        </Can>
      }
    >
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {editing.mode !== 'closed' && (
        <ScheduleEditor
          key={editing.mode === 'edit' ? editing.schedule.id : 'new'}
          editing={editing.mode === 'edit' ? editing.schedule : undefined}
          sources={locations}
          onSourceChange={(s) => s.startsWith('/') && setPreviewSource(s)}
          onCancel={() => setEditing({ mode: 'closed' })}
          onSaved={() => {
            setMessage({ kind: 'info', text: editing.mode === 'edit' ? 'Schedule saved.' : 'Schedule created.' });
            setEditing({ mode: 'closed' });
            schedules.reload();
          }}
        />
      )}
      <LoadState loading={schedules.loading} error={schedules.error} what="schedules" />
      {schedules.data && <DataTable caption="Backup schedules" columns={columns} rows={schedules.data.schedules} rowKey={(s) => s.id} empty="No schedules yet." />}
      <Can permission="backups:read">
        {locations.length > 1 && (
          <div className="field retention-source">
            <label htmlFor="retention-source">Preview retention for source</label>
            <select id="retention-source" value={source} onChange={(e) => setPreviewSource(e.target.value)}>
              {locations.map((l) => (
                <option key={l} value={l}>{l}</option>
              ))}
            </select>
          </div>
        )}
        <RetentionPreviewPanel source={source} />
      </Can>
    </Screen>
  );
}
