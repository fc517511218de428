// Renders the gateway's OpenAPI document (apps/gateway/src/openapi.ts, the one served at
// /openapi.json) as Markdown, so the REST reference cannot drift from the API.
import { openApiDocument } from '../apps/gateway/src/openapi.js';

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
    lines.push('## Errors', '', 'Every route answers an error with this body and an HTTP status that fits its code (for example 400 USAGE, 404 NOT_FOUND, 409 CONFLICT, 422 INTEGRITY):', '');
    lines.push(...json(error.content!['application/json']!.schema));
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
