import { UsageError } from '@tresor/errors';

/**
 * Deterministic JSON for everything that is hashed or signed: object keys sorted by UTF-16 code
 * units, no whitespace, numbers and strings as JSON.stringify writes them (RFC 8785 for the values
 * Tresor uses). Object properties that are undefined are omitted, as in JSON.stringify; anything
 * else that JSON cannot represent exactly (NaN, Infinity, undefined in arrays, bigint, Date,
 * class instances, cycles) is refused with UsageError.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$', new Set());
}

function encode(value: unknown, at: string, open: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new UsageError(`canonical JSON cannot encode the non-finite number ${value} at ${at}`);
      return JSON.stringify(value);
    case 'object':
      return encodeObject(value, at, open);
    default:
      throw new UsageError(`canonical JSON cannot encode a value of type ${typeof value} at ${at}`);
  }
}

function encodeObject(value: object, at: string, open: Set<object>): string {
  if (open.has(value)) throw new UsageError(`canonical JSON cannot encode a cycle at ${at}`);
  open.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item, i) => encode(item, `${at}[${i}]`, open)).join(',')}]`;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new UsageError(
        `canonical JSON cannot encode a ${value.constructor?.name ?? 'non-plain'} object at ${at}`,
      );
    }
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${encode(record[key], `${at}.${key}`, open)}`);
    return `{${members.join(',')}}`;
  } finally {
    open.delete(value);
  }
}
