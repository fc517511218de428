/** Keys only the seed system's files have; a document with one of them and no `version` is a seed file. */
const BACKUP_KEYS = ['backup_dirs', 'destination', 'retention_days', 'max_backups', 'compression', 'encryption'];
const MONITOR_KEYS = ['warning_threshold', 'critical_threshold', 'max_backup_age_hours', 'check_interval', 'backup_dir'];

/** Which seed layout a parsed document has, if any. */
export function seedLayoutOf(doc: unknown): 'backup_config.json' | 'monitor_config.json' | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || 'version' in doc) return undefined;
  if (BACKUP_KEYS.some((k) => k in doc)) return 'backup_config.json';
  if (MONITOR_KEYS.some((k) => k in doc)) return 'monitor_config.json';
  return undefined;
}
