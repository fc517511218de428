import type { Repository } from '../repository.js';
import { listKekVersions } from './kek-versions.js';
import type { KekVersion } from './kek-versions.js';

/**
 * Cryptoperiod of a KEK version that names none: one year. NIST SP 800-57 Part 1 Rev. 5 §5.3.6
 * allows up to two years of originator use for a symmetric key-wrapping key; a year keeps a margin
 * and matches the yearly rotation of AWS KMS keys.
 */
export const DEFAULT_CRYPTOPERIOD_DAYS = 365;

/** How many days before the end of its cryptoperiod a KEK version is reported as due. */
export const DEFAULT_CRYPTOPERIOD_WARN_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Where a KEK version stands in its cryptoperiod. */
export interface CryptoperiodStatus {
  readonly version: number;
  readonly state: KekVersion['state'];
  readonly createdAt: string;
  /** Whole days since the version was created. */
  readonly ageDays: number;
  readonly cryptoperiodDays: number;
  /** True when the version names no cryptoperiod and the default applies. */
  readonly defaulted: boolean;
  readonly rotateBy: string;
  /** Days until rotateBy (negative once past). */
  readonly daysLeft: number;
  /** `ok`, `due` (within the warning window), `overdue`, or `inactive` (disabled/destroyed: no new wraps). */
  readonly status: 'ok' | 'due' | 'overdue' | 'inactive';
}

/** What a cryptoperiod is judged on: a KEK version's number, state, creation time and period. */
export type KekAge = Pick<KekVersion, 'version' | 'state' | 'createdAt' | 'cryptoperiodDays'>;

/** The cryptoperiod status of one KEK version at `now`. */
export function cryptoperiodStatus(version: KekAge, now: Date = new Date(), warnDays = DEFAULT_CRYPTOPERIOD_WARN_DAYS): CryptoperiodStatus {
  const created = Date.parse(version.createdAt);
  const cryptoperiodDays = version.cryptoperiodDays ?? DEFAULT_CRYPTOPERIOD_DAYS;
  const due = created + cryptoperiodDays * DAY_MS;
  const daysLeft = Math.floor((due - now.getTime()) / DAY_MS);
  let status: CryptoperiodStatus['status'] = 'ok';
  if (version.state !== 'active') status = 'inactive';
  else if (due <= now.getTime()) status = 'overdue';
  else if (daysLeft < warnDays) status = 'due';
  return {
    version: version.version,
    state: version.state,
    createdAt: version.createdAt,
    ageDays: Math.max(0, Math.floor((now.getTime() - created) / DAY_MS)),
    cryptoperiodDays,
    defaulted: version.cryptoperiodDays === undefined,
    rotateBy: new Date(due).toISOString(),
    daysLeft,
    status,
  };
}

/**
 * Cryptoperiod status of every KEK version of a repository (for `keys list`, `keys check` and
 * monitoring): a version is `due` within `warnDays` of its end and `overdue` past it. Needs no key.
 */
export async function checkKekCryptoperiods(
  repo: Repository,
  options: { now?: Date; warnDays?: number } = {},
): Promise<CryptoperiodStatus[]> {
  const versions = await listKekVersions(repo);
  return versions.map((v) => cryptoperiodStatus(v, options.now, options.warnDays));
}

/** One line per active version that is due or overdue, for warnings on stderr and alerts. */
export function cryptoperiodWarnings(statuses: readonly CryptoperiodStatus[]): string[] {
  return statuses
    .filter((s) => s.status === 'due' || s.status === 'overdue')
    .map((s) =>
      s.status === 'overdue'
        ? `KEK version ${s.version} is past its cryptoperiod of ${s.cryptoperiodDays} days (rotate by ${s.rotateBy}, ${-s.daysLeft} day(s) ago): run \`tresor keys rotate\` and \`tresor keys rewrap\``
        : `KEK version ${s.version} reaches the end of its cryptoperiod of ${s.cryptoperiodDays} days in ${s.daysLeft} day(s) (rotate by ${s.rotateBy}): plan \`tresor keys rotate\``,
    );
}
