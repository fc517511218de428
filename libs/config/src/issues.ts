import type { z } from 'zod';
import { describeConfigIssue } from '@tresor/errors';

type Def = { type: string; [k: string]: unknown };
const WRAPPERS = ['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch'];
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

/**
 * The keys an object at `path` of `schema` accepts, following the document so that a tagged
 * union (alert channels) answers for the variant written; undefined where no object is expected.
 */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[], doc: unknown): string[] | undefined {
  let node: unknown = schema;
  let value = doc;
  for (let i = 0; ; i++) {
    const def = defOf(node);
    if (WRAPPERS.includes(def.type)) node = def.innerType;
    else if (def.type === 'pipe') node = def.in;
    else if (def.type === 'union') {
      const options = (def.options as unknown[]).filter((o) => defOf(o).type === 'object');
      const tag = (value as Record<string, unknown> | undefined)?.type;
      const shapes = options.map((o) => defOf(o).shape as Record<string, unknown>);
      const chosen = shapes.filter((s) => tag !== undefined && (defOf(s.type)?.values as unknown[] | undefined)?.includes(tag));
      if (i === path.length) return [...new Set((chosen.length ? chosen : shapes).flatMap((s) => Object.keys(s)))];
      const next = (chosen[0] ?? shapes.find((s) => path[i]! in s))?.[path[i] as string];
      if (!next) return undefined;
      node = next;
      value = (value as Record<PropertyKey, unknown> | undefined)?.[path[i]!];
    } else if (i === path.length) return def.type === 'object' ? Object.keys(def.shape as object) : undefined;
    else {
      const key = path[i]!;
      if (def.type === 'object') node = (def.shape as Record<PropertyKey, unknown>)[key];
      else if (def.type === 'record') node = def.valueType;
      else if (def.type === 'array') node = def.element;
      else return undefined;
      if (!node) return undefined;
      value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
    }
    // Wrappers do not consume a path element.
    if (WRAPPERS.includes(def.type) || def.type === 'pipe') i--;
  }
}

/** The first issue of a failed parse as one line: file, path inside it, what was wrong and what is expected. */
export function describeFirstIssue(where: string, error: z.ZodError, schema: z.ZodType, doc: unknown): string {
  // An unknown key is often a misspelt required one: naming it helps more than "host is missing".
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const allowed = keysAt(schema, issue.path, doc);
    const key = issue.keys[0]!;
    return describeConfigIssue(where, { path: [...issue.path, key], message: 'unknown key' }, allowed ? `one of ${allowed.join(', ')}` : undefined);
  }
  return describeConfigIssue(where, issue);
}
