// Renders the gateway's OpenAPI document (apps/gateway/src/openapi.ts, the one served at
// /openapi.json) as Markdown, so the REST reference cannot drift from the API.
import { HTTP_STATUS_OF_CODE } from '../apps/gateway/src/core/http-errors.js';
import { openApiDocument } from '../apps/gateway/src/openapi.js';

/** What each error code means for a caller (the status comes from the gateway's own table). */
const CODE_MEANING: Record<string, string> = {
  USAGE: 'the request is invalid (a field, a value out of range); the message names it',
  UNAUTHENTICATED: 'no valid credentials: missing, wrong, expired or revoked',
  FORBIDDEN: 'the role or tenant does not allow the action',
  WRONG_KEY: 'the key or passphrase given cannot unlock the data',
  NOT_FOUND: 'the named backup, job, schedule or request does not exist (or is in another tenant)',
  CONFLICT: 'the action would change or lose something that exists',
  TOO_LARGE: 'the body or the message built from it exceeds a limit; the message names it',
  INTEGRITY: 'stored data failed a hash, tag or signature check',
  RATE_LIMITED: 'too many failed logins (locked out for a while), or too many open event streams',
  UNSUPPORTED: 'a format version or feature this build does not have',
  IO: 'a dependency answered with a failure (the audit service could not store the entry, an OpenID provider\'s HTTP error), or an I/O failure',
  UNAVAILABLE: 'a dependency could not be reached or did not answer in time (LDAP directory, OpenID provider, Redis, the audit log, another service over NATS, the MongoDB-wire server); the message names it. Retry later, with the same `Idempotency-Key` for a state-changing request (ADR 30)',
};

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: { type?: string; enum?: unknown[]; default?: unknown };
}
interface Operation {
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const json = (value: unknown): string[] => ['```json', JSON.stringify(value, null, 2), '```', ''];

function schemaType(p: Parameter): string {
  if (p.schema?.enum) return p.schema.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  return p.schema?.type ?? '';
}

function operation(method: string, path: string, op: Operation): string[] {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, ''];
  if (op.summary) lines.push(`${op.summary}.`, '');
  if (op.description) lines.push(op.description, '');
  if (op.parameters?.length) {
    lines.push('| parameter | in | type | required | meaning |', '|---|---|---|---|---|');
    for (const p of op.parameters) lines.push(`| \`${p.name}\` | ${p.in} | ${cell(schemaType(p))} | ${p.required ? 'yes' : 'no'} | ${cell(p.description ?? '')} |`);
    lines.push('');
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  if (body) lines.push('Request body (`application/json`):', '', ...json(body));
  for (const [status, response] of Object.entries(op.responses ?? {})) {
    if (status === 'default') {
      lines.push('Response `default`: an error, see [Errors](#errors).', '');
      continue;
    }
    lines.push(`Response \`${status}\`${response.description ? `: ${response.description}` : ''}`, '');
    const schema = response.content?.['application/json']?.schema;
    if (schema) lines.push(...json(schema));
  }
  return lines;
}

/** The whole REST reference: every path and method of the OpenAPI document, grouped by first segment. */
export function renderApiReference(doc = openApiDocument() as { info: { title: string; version: string; description?: string }; paths: Record<string, Record<string, Operation>> }): string {
  const lines = [
    '# Gateway REST API reference',
    '',
    '<!-- Generated from apps/gateway/src/openapi.ts by `npm run docs:api`; do not edit by hand. -->',
    '',
    `${doc.info.title} ${doc.info.version}. ${doc.info.description ?? ''}`.trim(),
    '',
    'A running gateway serves the same document at `/openapi.json` and an explorer at `/docs`.',
    'How to start the cluster, the remote CLI and the typed client: [cluster.md](cluster.md).',
    '',
  ];
  let group = '';
  for (const [path, ops] of Object.entries(doc.paths)) {
    const g = path.split('/').filter(Boolean).slice(0, path.startsWith('/v1/') ? 2 : 1).join('/');
    if (g !== group) {
      group = g;
      lines.push(`## \`/${g}\``, '');
    }
    for (const method of METHODS) if (ops[method]) lines.push(...operation(method, path, ops[method]));
  }
  const error = Object.values(doc.paths)
    .flatMap((ops) => Object.values(ops))
    .map((op) => op.responses?.default)
    .find((r) => r?.content?.['application/json']?.schema);
  if (error) {
    lines.push('## Errors', '', 'Every route answers an error with this body and an HTTP status that fits its code; the message is one line:', '');
    lines.push(...json(error.content!['application/json']!.schema));
    lines.push('| status | code | meaning |', '|---|---|---|');
    const byStatus = Object.entries(HTTP_STATUS_OF_CODE).sort(([a, x], [b, y]) => x - y || a.localeCompare(b));
    for (const [code, status] of byStatus) lines.push(`| ${status} | \`${code}\` | ${CODE_MEANING[code] ?? ''} |`);
    lines.push('| 500 | `INTERNAL` | anything else: `internal error (see the service log)` |');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
