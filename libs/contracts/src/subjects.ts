/**
 * Every NATS subject of the cluster, under one configurable root (`tresor` in production; tests use
 * a unique root per run so that parallel runs never see each other's messages).
 */
export const DEFAULT_SUBJECT_ROOT = 'tresor';

export function subjects(root: string = DEFAULT_SUBJECT_ROOT) {
  return {
    root,
    /** Request/reply commands: `<root>.cmd.<service>.<verb>`. */
    command: (name: string) => `${root}.cmd.${name}`,
    /** CloudEvents on the TRESOR_EVENTS stream: `<root>.events.<aggregate>.<event>`. */
    event: (name: string) => `${root}.events.${name}`,
    events: `${root}.events.>`,
    /** Work-queue subjects: `<root>.jobs.<kind>`. */
    job: (kind: string) => `${root}.jobs.${kind}`,
    /** Dead letters: `<root>.dlq.<service>`. */
    deadLetter: (service: string) => `${root}.dlq.${service}`,
    deadLetters: `${root}.dlq.>`,
    /** Service heartbeats (core NATS, not persisted): `<root>.health.<service>`. */
    heartbeat: (service: string) => `${root}.health.${service}`,
    heartbeats: `${root}.health.*`,
  };
}
export type Subjects = ReturnType<typeof subjects>;

/** Message headers the cluster uses. */
export const HEADERS = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  jobId: 'Tresor-Job-Id',
  /** `ok` or `error` on every reply; an error reply's body is an ErrorBody. */
  status: 'Tresor-Status',
  uploadId: 'Tresor-Upload-Id',
  sequence: 'Tresor-Seq',
  eof: 'Tresor-Eof',
  deadLetterReason: 'Tresor-Dead-Letter-Reason',
  originalSubject: 'Tresor-Original-Subject',
} as const;

/** Largest message body a service accepts (NATS' default max_payload is 1 MiB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Archive bytes per NATS message when objects travel through the storage-gateway. */
export const TRANSFER_CHUNK_BYTES = 256 * 1024;
