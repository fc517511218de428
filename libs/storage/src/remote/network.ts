/** Node socket errors that mean the endpoint could not be reached at all. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

/** The socket error code of `err` or of one of its causes, when the endpoint was unreachable. */
export function unreachableCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && unreachableCodes.has(code)) return code;
    // Some SDKs (Azure) keep only the socket error's text.
    const inMessage = /\b(E[A-Z_]+)\b/.exec(e.message)?.[1];
    if (inMessage !== undefined && unreachableCodes.has(inMessage)) return inMessage;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const innerCode = (inner as NodeJS.ErrnoException).code;
        if (typeof innerCode === 'string' && unreachableCodes.has(innerCode)) return innerCode;
      }
    }
  }
  return undefined;
}

/** Whether `err` (or one of its causes) is a request given up by a client-side timeout. */
export function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'TimeoutError' || (e as NodeJS.ErrnoException).code === 'ETIMEDOUT') return true;
  }
  return false;
}
