import { subjects } from './subjects.js';

/**
 * What each cluster service does on NATS, by contract name: the source of the per-service subject
 * allow-lists in deploy/nats/ (ADR 0021). test/security/nats-permissions.spec.ts checks this table
 * against the contracts each service's code references, and the rendered file against a real server.
 */
export interface NatsServiceUsage {
  /** Commands it answers (subscribes to `<root>.cmd.<name>`). */
  readonly serves: readonly string[];
  /** Commands it sends (publishes to `<root>.cmd.<name>`). */
  readonly calls: readonly string[];
  /** Events it emits (`<root>.events.<name>`). */
  readonly emits: readonly string[];
  /** Jobs it queues (`<root>.jobs.<kind>`). */
  readonly submits: readonly string[];
  /** Jobs it pulls (through its durable consumer; deliveries arrive on its inbox). */
  readonly works: readonly string[];
  /** Reads the event stream through its own durable consumer. */
  readonly readsEvents: boolean;
  /** Watches every service's heartbeat (`<root>.health.*`). */
  readonly watchesHeartbeats: boolean;
}

const STORAGE = ['storage.locations', 'storage.head', 'storage.list', 'storage.delete', 'storage.put.begin', 'storage.put.chunk', 'storage.put.commit', 'storage.put.abort', 'storage.get'];
const usage = (u: Partial<NatsServiceUsage>): NatsServiceUsage => ({ serves: [], calls: [], emits: [], submits: [], works: [], readsEvents: false, watchesHeartbeats: false, ...u });

export const NATS_SERVICE_USAGE: Readonly<Record<string, NatsServiceUsage>> = {
  gateway: usage({
    calls: ['storage.locations', 'monitoring.status', 'monitoring.drill', 'monitoring.compliance', 'monitoring.fsck', 'monitoring.keys', 'audit.append', 'audit.verify', 'audit.entries'],
    emits: ['backup.requested', 'restore.requested', 'verify.requested', 'approval.requested', 'approval.granted', 'approval.rejected', 'approval.expired', 'approval.executed'],
    submits: ['backup', 'restore', 'verify'],
  }),
  'backup-engine': usage({ calls: STORAGE, emits: ['backup.started', 'backup.progress', 'backup.completed', 'backup.failed'], works: ['backup'] }),
  recovery: usage({
    calls: STORAGE,
    emits: ['restore.started', 'restore.completed', 'restore.failed', 'verify.started', 'verify.completed', 'verify.failed'],
    works: ['restore', 'verify'],
  }),
  'storage-gateway': usage({ serves: STORAGE }),
  audit: usage({ serves: ['audit.append', 'audit.verify', 'audit.entries'], emits: ['audit.appended'], readsEvents: true }),
  // Restore drills read archives through the storage gateway like recovery does.
  monitoring: usage({ serves: ['monitoring.status', 'monitoring.drill', 'monitoring.compliance', 'monitoring.fsck', 'monitoring.keys'], calls: [...STORAGE, 'audit.verify'], emits: ['alert.raised', 'alert.resolved', 'repository.orphans-removed'], readsEvents: true, watchesHeartbeats: true }),
  scheduler: usage({ emits: ['backup.requested'], submits: ['backup'] }),
};

/** A nats-server `permissions` block. */
export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
}

/**
 * The publish/subscribe allow-lists of one service under a subject root. Every service also
 * needs the JetStream API (it declares streams and consumers idempotently at start and pulls
 * through it), acks, its heartbeat and dead-letter subjects, and inboxes for replies.
 */
export function natsPermissions(service: string, root: string): NatsPermissions {
  const u = NATS_SERVICE_USAGE[service];
  if (!u) throw new Error(`no NATS usage declared for service ${service}`);
  const s = subjects(root);
  // A command goes to `<root>.cmd.<name>`, or to `.<instance>` after it when a transfer is pinned to one replica.
  const command = (name: string) => [s.command(name), `${s.command(name)}.*`];
  const publish = [
    ...u.calls.flatMap(command),
    ...u.emits.map(s.event),
    ...u.submits.map(s.job),
    s.heartbeat(service),
    s.deadLetter(service),
    '$JS.API.>',
    '$JS.ACK.>',
    // Replies to requests it answers, and acks of JetStream publishes, go to the caller's inbox.
    '_INBOX.>',
  ];
  const subscribe = ['_INBOX.>', ...u.serves.flatMap(command), ...(u.watchesHeartbeats ? [s.heartbeats] : [])];
  return { publish: { allow: [...new Set(publish)] }, subscribe: { allow: [...new Set(subscribe)] } };
}

/**
 * The `authorization` block of nats-server.conf: one user per service with its allow-lists.
 * `password(service)` gives the value written for that user (e.g. `$TRESOR_NATS_PASSWORD_GATEWAY`,
 * which nats-server resolves from its environment, or a literal in tests).
 */
export function natsAuthorizationConfig(root: string, password: (service: string) => string): string {
  const lines = ['authorization {', '  users = ['];
  for (const service of Object.keys(NATS_SERVICE_USAGE)) {
    const p = natsPermissions(service, root);
    const list = (xs: string[]) => xs.map((x) => JSON.stringify(x)).join(', ');
    lines.push(
      '    {',
      `      user: ${JSON.stringify(service)}`,
      `      password: ${password(service)}`,
      '      permissions: {',
      `        publish: { allow: [${list(p.publish.allow)}] }`,
      `        subscribe: { allow: [${list(p.subscribe.allow)}] }`,
      '      }',
      '    }',
    );
  }
  lines.push('  ]', '}');
  return `${lines.join('\n')}\n`;
}

/** The environment variable deploy/nats/nats-server.conf takes a service's NATS password from. */
export const natsPasswordVariable = (service: string): string => `TRESOR_NATS_PASSWORD_${service.toUpperCase().replace(/-/g, '_')}`;
