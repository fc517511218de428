// The live state of one job, folded from its events (GET /v1/events?job=, docs/events.md).

/** A job's events so far, as the progress panel shows them. */
export interface JobProgressState {
  phase: 'waiting' | 'requested' | 'running' | 'uploaded' | 'completed' | 'failed';
  files?: number;
  bytesIn?: number;
  bytesStored?: number;
  /** The backup a completed backup job made; the backup a verify job checked. */
  backupId?: string;
  /** A verify's verdict. */
  ok?: boolean;
  problem?: string;
  error?: string;
}

export const INITIAL_PROGRESS: JobProgressState = { phase: 'waiting' };

/** Whether the job reached an end. */
export const isFinal = (s: JobProgressState): boolean => s.phase === 'completed' || s.phase === 'failed';

/** The state after one event (`name` like `backup.progress`, `data` the CloudEvent's data). */
export function foldJobEvent(state: JobProgressState, name: string, data: Record<string, unknown>): JobProgressState {
  const verb = name.slice(name.indexOf('.') + 1);
  const num = (k: string) => (typeof data[k] === 'number' ? (data[k] as number) : undefined);
  const str = (k: string) => (typeof data[k] === 'string' ? (data[k] as string) : undefined);
  const counts = { files: num('files') ?? state.files, bytesIn: num('bytesIn') ?? state.bytesIn };
  switch (verb) {
    case 'requested':
      // The job is queued before `requested` is published: a worker's `started` may come first.
      return state.phase === 'waiting' ? { ...state, phase: 'requested' } : state;
    case 'started':
      return { ...state, phase: 'running' };
    case 'progress':
      return { ...state, ...counts, phase: data.phase === 'uploaded' ? 'uploaded' : 'running' };
    case 'completed':
      return { ...state, ...counts, phase: 'completed', bytesStored: num('bytesStored'), backupId: str('backupId'), ok: typeof data.ok === 'boolean' ? data.ok : undefined, problem: str('problem') };
    case 'failed': {
      const error = data.error as { code?: string; message?: string } | undefined;
      return { ...state, phase: 'failed', error: error?.message ?? 'the job failed' };
    }
    default:
      return state;
  }
}
