import type { z } from 'zod';

/** The first problem zod found, as `field.path: message`, for one-line errors. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid value';
  const at = issue.path.length > 0 ? issue.path.map(String).join('.') : 'value';
  return `${at}: ${issue.message}`;
}
