/**
 * The one redaction layer every log line, event payload and error message goes through
 * (ADR 0021): fields whose name says they hold a secret are censored, and the values of secrets
 * this process has read (passphrases, tokens, passwords in its configuration) are replaced
 * wherever they occur, because a secret can end up inside a message or a URL under any key.
 */

/** What a censored field or value becomes. */
export const REDACTED = '[redacted]';

/** Field names (lower case, without `-` and `_`) that always hold a secret. */
const SECRET_KEYS = new Set([
  'passphrase',
  'password',
  'passwd',
  'pwd',
  'token',
  'secret',
  'privatekey',
  'privatekeypem',
  'identitypem',
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'apikey',
  'pin',
  'pkcs11pin',
  'codeverifier',
  'clientsecret',
  'credentials',
  'hmac',
  'hmacsecret',
  'sessionkey',
  'signingkey',
]);

/** Endings of field names that hold a secret (`bindPassword`, `TRESOR_TOKEN`, `refresh_token`, `secretAccessKey`). */
const SECRET_KEY_SUFFIXES = ['password', 'passphrase', 'secret', 'token', 'privatekey', 'apikey', 'secretaccesskey'];

/** Shorter values are not registered: replacing them would mangle ordinary text and they are no secret anyway. */
export const MIN_SECRET_LENGTH = 6;

/** Upper bound on registered values (per-request secrets such as login passwords rotate out, oldest first). */
const MAX_SECRETS = 2048;

// Insertion-ordered, so the oldest entry is the first to go when the bound is reached.
const secrets = new Map<string, true>();
// Longest first, so a secret that contains another is replaced whole; rebuilt lazily on change.
let ordered: string[] | undefined;

/** True when a field of this name holds a secret and its value must never be written out. */
export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  if (SECRET_KEYS.has(k)) return true;
  // Suffixes only: `tokens`, `tokenId`, `passwordChangedAt` are counts, ids and times, not secrets.
  return SECRET_KEY_SUFFIXES.some((s) => k.endsWith(s));
}

/**
 * Remembers a secret value this process has read, so that it is replaced wherever it shows up
 * later (a log line, an event, an error message), also in the escaped forms JSON and URLs give it.
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
  for (const form of forms) {
    secrets.delete(form);
    secrets.set(form, true);
  }
  while (secrets.size > MAX_SECRETS) secrets.delete(secrets.keys().next().value as string);
  ordered = undefined;
}

/** Forgets every registered value (tests). */
export function clearRegisteredSecrets(): void {
  secrets.clear();
  ordered = undefined;
}

/**
 * Registers the secrets of a configuration or environment: values of secret-named keys, the
 * password of any URL with credentials (`mongodb://user:pass@host`), e.g. TRESOR_PASSPHRASE,
 * TRESOR_LDAP_BIND_PASSWORD or the credentials in TRESOR_MONGODB_URL.
 */
export function registerSecretsOf(config: Record<string, unknown> | NodeJS.ProcessEnv): void {
  for (const [key, value] of Object.entries(config)) {
    if (typeof value !== 'string') continue;
    if (isSecretKey(key)) registerSecret(value);
    for (const password of urlPasswords(value)) registerSecret(password);
  }
}

/** Passwords in the userinfo of URLs within `text` (`scheme://user:password@host`). */
function urlPasswords(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s/]+)@/gi)) {
    const raw = m[1]!;
    found.push(raw);
    try {
      found.push(decodeURIComponent(raw));
    } catch {
      // Not percent-encoded: the raw form is the one that can appear.
    }
  }
  return found;
}

/** `text` with every registered secret value, and the password of any URL, replaced. */
export function redactText(text: string): string {
  let out = text;
  if (secrets.size > 0) {
    ordered ??= [...secrets.keys()].sort((a, b) => b.length - a.length);
    for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  // A connection string in an error (a driver's "cannot connect to mongodb://u:p@h") keeps its host, not its password.
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s/]+)@/gi, (_m, head: string, pass: string) =>
    pass === REDACTED ? `${head}${pass}@` : `${head}${REDACTED}@`,
  );
}

/**
 * A copy of `value` safe to write out: secret-named fields censored at any depth, registered
 * secrets replaced in every string. Errors are kept as errors (with message and stack redacted)
 * so that log serializers still recognise them.
 */
export function redactValue<T>(value: T): T {
  return redactInner(value, new WeakMap()) as T;
}

function redactInner(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (value instanceof Error) {
    value.message = redactText(value.message);
    if (value.stack) value.stack = redactText(value.stack);
    return value;
  }
  if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(redactInner(item, seen));
    return copy;
  }
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) {
    copy[key] = isSecretKey(key) && item !== undefined && item !== null && item !== '' ? REDACTED : redactInner(item, seen);
  }
  return copy;
}
