// Follows one job over Server-Sent Events until it completes or fails.
import { useEffect, useState } from 'react';
import { ApiError } from '../../api/client';
import { streamEvents } from '../../api/events';
import { INITIAL_PROGRESS, foldJobEvent, isFinal } from './job-events';
import type { JobProgressState } from './job-events';

/** How long to wait before reconnecting a stream the network dropped. */
const RECONNECT_MS = 2000;

/** The live state of job `jobId` (null: nothing to follow) and the last stream error. */
export function useJobEvents(jobId: string | null): { progress: JobProgressState; error: string | undefined } {
  const [progress, setProgress] = useState<JobProgressState>(INITIAL_PROGRESS);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!jobId) return;
    const controller = new AbortController();
    let state = INITIAL_PROGRESS;
    setProgress(state);
    setError(undefined);
    const follow = async () => {
      // `?job=` replays the job from its start, so a reconnect rebuilds the whole state.
      while (!controller.signal.aborted && !isFinal(state)) {
        state = INITIAL_PROGRESS;
        try {
          await streamEvents('/events', {
            query: { job: jobId },
            signal: controller.signal,
            onEvent: (e) => {
              state = foldJobEvent(state, e.event, (JSON.parse(e.data) as { data: Record<string, unknown> }).data);
              setProgress(state);
              if (isFinal(state)) controller.abort();
            },
          });
        } catch (cause) {
          if (controller.signal.aborted) return;
          setError(cause instanceof ApiError ? cause.message : 'the event stream was interrupted; reconnecting');
          if (cause instanceof ApiError && cause.status < 500) return;
        }
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
      }
    };
    void follow();
    return () => controller.abort();
  }, [jobId]);
  return { progress, error };
}
