/**
 * Time of RetentionPolicy.select over a large generated history (two years per source: daily
 * backups with incremental chains, hourly ones for the last three days, some WORM-locked), in
 * process, for a few policies. Prints one line per run; the first runs include JIT warm-up.
 *
 *   npx tsx bench/retention-select.ts [--sources 140] [--runs 6]
 */
import { parseArgs } from 'node:util';
import { selectRetention } from '../libs/repository/src/retention/select.js';
import type { RetentionPolicy } from '../libs/repository/src/retention/select.js';
import { generateHistory } from '../libs/repository/src/retention/history.fixture.js';

const { values } = parseArgs({ options: { sources: { type: 'string', default: '140' }, runs: { type: 'string', default: '6' } } });
const now = new Date('2026-11-26T09:00:00Z');
const backups = Array.from({ length: Number(values.sources) }, (_, s) => generateHistory(`src${s}`, now, s + 1)).flat();
const gfs = { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 3 };
const policies: [string, RetentionPolicy][] = [
  ['GFS 24/7/4/12/3, UTC', gfs],
  ['GFS 24/7/4/12/3, Europe/Berlin', { ...gfs, timeZone: 'Europe/Berlin' }],
  ['keep-last 10', { keepLast: 10 }],
];
console.log(`${backups.length} backups in ${values.sources} sources`);
for (const [name, policy] of policies) {
  const times: string[] = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const started = performance.now();
    selectRetention(backups, policy, now);
    times.push(`${Math.round(performance.now() - started)}`);
  }
  console.log(`${name}: ${times.join(', ')} ms`);
}
