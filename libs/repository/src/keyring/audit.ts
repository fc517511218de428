import { appendFile, mkdir } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';

/** One key-management event. `details` never holds secrets (no shares, PINs or keys). */
export interface KeyAuditEvent {
  readonly action: string;
  readonly outcome: 'success' | 'failure';
  readonly details?: Record<string, unknown>;
}

/**
 * Where key-management events go. The hash-chained, signed audit log of DESIGN.md comes with the
 * security issue; until then the CLI records to a JSONL file through this port, so that adapter
 * can replace it without touching callers.
 */
export interface KeyAuditLog {
  record(event: KeyAuditEvent): Promise<void>;
}

/** Appends one JSON object per line (mode 0600): time, actor, host, action, outcome, details. Not hash-chained. */
export class JsonlKeyAuditLog implements KeyAuditLog {
  constructor(private readonly file: string) {}

  async record(event: KeyAuditEvent): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const line = {
      time: new Date().toISOString(),
      actor: safeUser(),
      host: hostname(),
      pid: process.pid,
      ...event,
    };
    await appendFile(this.file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}
