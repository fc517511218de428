// Inline SVG chart of the last 30 days: backup outcomes (succeeded / failed, stacked) and bytes
// stored per day. The same numbers are in a table for screen readers and keyboard users.
import { Bytes } from '../../components/Bytes';
import { formatBytes } from '../../components/format';
import type { DayBucket } from './daily';
import { niceMax } from './daily';

const WIDTH = 900;
const HEIGHT = 160;
const LEFT = 64;
const BOTTOM = 22;

/** Bars of a series over the days; `stack` adds a second series on top of the first. */
function Bars({ days, values, stack, max, className }: { days: DayBucket[]; values: (d: DayBucket) => number; stack?: (d: DayBucket) => number; max: number; className: string }) {
  const slot = (WIDTH - LEFT) / days.length;
  const scale = (v: number) => (v / max) * (HEIGHT - BOTTOM - 8);
  return (
    <g className={className}>
      {days.map((d, i) => {
        const below = stack ? scale(stack(d)) : 0;
        const h = scale(values(d));
        if (h <= 0) return null;
        return <rect key={d.day} x={LEFT + i * slot + slot * 0.15} width={slot * 0.7} y={HEIGHT - BOTTOM - below - h} height={h} />;
      })}
    </g>
  );
}

function Axis({ days, max, label }: { days: DayBucket[]; max: number; label: (v: number) => string }) {
  const slot = (WIDTH - LEFT) / days.length;
  const top = 8;
  const base = HEIGHT - BOTTOM;
  return (
    <g className="chart-axis" aria-hidden="true">
      <line x1={LEFT} x2={WIDTH} y1={base} y2={base} />
      <line x1={LEFT} x2={WIDTH} y1={top} y2={top} className="chart-grid" />
      <text x={LEFT - 6} y={base} textAnchor="end" dominantBaseline="middle">{label(0)}</text>
      <text x={LEFT - 6} y={top} textAnchor="end" dominantBaseline="middle">{label(max)}</text>
      {days.map((d, i) =>
        i % 5 === 4 || i === days.length - 1 ? (
          <text key={d.day} x={LEFT + i * slot + slot / 2} y={HEIGHT - 4} textAnchor={i === days.length - 1 ? 'end' : 'middle'}>
            {d.day.slice(5)}
          </text>
        ) : null,
      )}
    </g>
  );
}

/** The two charts and their data table. */
export function BackupChart({ days }: { days: DayBucket[] }) {
  const outcomesMax = niceMax(Math.max(...days.map((d) => d.succeeded + d.failed)));
  const bytesMax = niceMax(Math.max(...days.map((d) => d.bytesStored)), 1024);
  const totals = days.reduce((t, d) => ({ ok: t.ok + d.succeeded, failed: t.failed + d.failed, stored: t.stored + d.bytesStored }), { ok: 0, failed: 0, stored: 0 });
  const summary = `Last ${days.length} days: ${totals.ok} ${totals.ok === 1 ? 'backup' : 'backups'} succeeded, ${totals.failed} failed, ${formatBytes(totals.stored)} stored.`;
  return (
    <figure className="chart">
      <figcaption>{summary}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Backup outcomes per day. ${summary}`} className="chart-svg">
        <Axis days={days} max={outcomesMax} label={(v) => String(v)} />
        <Bars days={days} values={(d) => d.succeeded} max={outcomesMax} className="bar-ok" />
        <Bars days={days} values={(d) => d.failed} stack={(d) => d.succeeded} max={outcomesMax} className="bar-bad" />
      </svg>
      <p className="chart-legend" aria-hidden="true">
        <span className="swatch swatch-ok" /> succeeded <span className="swatch swatch-bad" /> failed (backup jobs per day)
      </p>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Bytes stored per day, ${formatBytes(totals.stored)} in total.`} className="chart-svg">
        <Axis days={days} max={bytesMax} label={(v) => formatBytes(v)} />
        <Bars days={days} values={(d) => d.bytesStored} max={bytesMax} className="bar-size" />
      </svg>
      <p className="chart-legend" aria-hidden="true">
        <span className="swatch swatch-size" /> bytes stored per day (after compression and deduplication)
      </p>
      <details>
        <summary>Show the numbers as a table</summary>
        <table className="data-table">
          <caption className="visually-hidden">Backups per day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col" className="numeric">Succeeded</th>
              <th scope="col" className="numeric">Failed</th>
              <th scope="col" className="numeric">Read</th>
              <th scope="col" className="numeric">Stored</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.day}>
                <th scope="row">{d.day}</th>
                <td className="numeric">{d.succeeded}</td>
                <td className="numeric">{d.failed}</td>
                <td className="numeric"><Bytes value={d.bytesIn} /></td>
                <td className="numeric"><Bytes value={d.bytesStored} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
