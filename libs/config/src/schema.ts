import { z } from 'zod';
import { monitorConfigSchema, sourcePolicySchema } from '@tresor/assurance';
import { compilePolicy, retentionConfigSchema, retentionPolicySchema, storageConfigSchema } from '@tresor/repository';
import { CronTimetable, LevelPlan, isTimeZone, localScheduleSchema } from '@tresor/scheduling';

/** A source (by location, the directory backed up): its monitoring policy, tags and retention. */
const sourceSchema = z.strictObject({
  ...sourcePolicySchema.shape,
  /** Added to every scheduled backup of the source, with the schedule's own tags. */
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  retention: retentionPolicySchema.optional(),
});

/**
 * The one configuration file of a standalone Tresor (docs/configuration.md). Each section reuses
 * the schema of the file it replaces, so the two can never disagree.
 */
export const tresorConfigSchema = z
  .strictObject({
    /** The JSON Schema this file follows, for editors; not read by Tresor. */
    $schema: z.string().optional(),
    version: z.literal(1),
    /** Repository directory; relative to this file. `--repo` and `TRESOR_REPO` win over it. */
    repository: z.string().min(1).optional(),
    sources: z.record(z.string().min(1), sourceSchema).default({}),
    schedules: z.array(localScheduleSchema).default([]),
    retention: retentionConfigSchema.optional(),
    /** Storage locations as `tresor init --storage` takes them (docs/storage.md). */
    storage: storageConfigSchema.optional(),
    keys: monitorConfigSchema.shape.keys,
    /** Everything of monitor.json but `sources` and `keys`, which have their own sections. */
    monitoring: monitorConfigSchema.omit({ sources: true, keys: true }).default(() => monitorConfigSchema.omit({ sources: true, keys: true }).parse({})),
  })
  .superRefine((config, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const ids = new Set<string>();
    config.schedules.forEach((s, i) => {
      if (ids.has(s.id)) issue(['schedules', i, 'id'], `'${s.id}' is used by an earlier schedule; expected a unique id`);
      ids.add(s.id);
      checkTimes(s.cron, s.timezone, ['schedules', i], 'cron', issue);
      try {
        new LevelPlan(s.plan, s.level, isTimeZone(s.timezone) ? s.timezone : 'UTC');
      } catch (err) {
        issue(['schedules', i, 'plan'], (err as Error).message);
      }
    });
    const drills = config.monitoring.drills;
    if (drills.schedule !== undefined || drills.timezone !== undefined) checkTimes(drills.schedule, drills.timezone ?? 'UTC', ['monitoring', 'drills'], 'schedule', issue);
    const policies: [PropertyKey[], z.infer<typeof retentionPolicySchema>][] = [];
    if (config.retention?.default) policies.push([['retention', 'default'], config.retention.default]);
    for (const [location, p] of Object.entries(config.retention?.sources ?? {})) policies.push([['retention', 'sources', location], p]);
    for (const [location, source] of Object.entries(config.sources)) {
      if (!source.retention) continue;
      if (config.retention?.sources?.[location]) issue(['sources', location, 'retention'], `source ${location} also has a policy in retention.sources; expected one of the two`);
      policies.push([['sources', location, 'retention'], source.retention]);
    }
    for (const [path, policy] of policies) {
      try {
        compilePolicy(policy, 'policy');
      } catch (err) {
        issue(path, (err as Error).message.replace(/^policy:? /, ''));
      }
    }
  });
export type TresorConfig = z.infer<typeof tresorConfigSchema>;
/** The file as written (defaults not yet applied): what translation produces. */
export type TresorConfigInput = z.input<typeof tresorConfigSchema>;

/** Reports a bad time zone or cron expression at the field that holds it. */
function checkTimes(cron: string | undefined, timezone: string, at: PropertyKey[], cronField: string, issue: (path: PropertyKey[], message: string) => void): void {
  if (!isTimeZone(timezone)) return issue([...at, 'timezone'], `'${timezone}' is not a time zone; expected an IANA time zone such as UTC or Europe/Berlin`);
  if (cron === undefined) return;
  try {
    new CronTimetable(cron, timezone);
  } catch (err) {
    issue([...at, cronField], (err as Error).message);
  }
}
