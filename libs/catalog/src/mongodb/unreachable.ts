/** The driver's errors for a MongoDB-wire server it cannot reach (a restart, an outage), as opposed to one that refused the work. */
const UNREACHABLE = new Set(['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError', 'MongoTopologyClosedError']);

/** True when `err` says the MongoDB-wire server could not be reached (HTTP 503, docs/api.md#errors), not that it failed the work. */
export function isMongoUnreachable(err: unknown): boolean {
  return err instanceof Error && UNREACHABLE.has(err.name);
}
