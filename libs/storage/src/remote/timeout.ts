import { z } from 'zod';

/**
 * `timeoutSeconds` of a network location: how long one request may take (idle, or in total where
 * the backend's client only has a total limit) before it is given up and retried. Without it a
 * black-holed endpoint (a dead route, a full queue) holds a backup forever.
 */
export function timeoutSecondsSchema(defaultSeconds: number) {
  return z.number().positive().max(3600).default(defaultSeconds);
}
