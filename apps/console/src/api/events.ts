// Server-Sent Events over fetch + ReadableStream, so the Authorization header is sent
// (EventSource cannot send headers, and the console keeps tokens out of URLs and cookies).
import { authorizedFetch, errorOf } from './client';
import type { Query } from './client';

/** One event of the stream. */
export interface ServerEvent {
  event: string;
  data: string;
  id?: string;
}

/** Options of `streamEvents`. */
export interface StreamOptions {
  query?: Query;
  signal: AbortSignal;
  onEvent: (event: ServerEvent) => void;
}

/** Parse one SSE block (lines up to a blank line); comments and empty blocks yield null. */
export function parseEventBlock(block: string): ServerEvent | null {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return null;
  return id === undefined ? { event, data: data.join('\n') } : { event, data: data.join('\n'), id };
}

/** Read an SSE endpoint until the server closes it or `signal` aborts; throws ApiError on a refused request. */
export async function streamEvents(path: string, options: StreamOptions): Promise<void> {
  const res = await authorizedFetch(path, {
    query: options.query,
    signal: options.signal,
    headers: { Accept: 'text/event-stream' },
  });
  if (!res.ok || !res.body) throw await errorOf(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: RegExpExecArray | null;
      while ((end = /\r?\n\r?\n/.exec(buffer))) {
        const event = parseEventBlock(buffer.slice(0, end.index));
        buffer = buffer.slice(end.index + end[0].length);
        if (event) options.onEvent(event);
      }
    }
  } finally {
    reader.releaseLock();
  }
}
