// The backups of a source on a time axis: a radio group (one tab stop; ←/→, Home/End move and
// select), each marker labelled with its time in the user's zone, UTC on hover.
import { useRef } from 'react';
import type { KeyboardEvent } from 'react';
import { formatLocalTime, formatUtc } from '../../components/format';
import { Time } from '../../components/Time';

/** A backup as GET /v1/backups lists it. */
export interface ListedBackup {
  id: string;
  level: string;
  createdAt: string;
  files: number;
  bytesIn: number;
  source?: string;
}

const WIDTH = 1000;
const PAD = 24;
/** Markers closer than this are spread apart so each stays visible and clickable. */
const MIN_GAP = 26;

/** X positions proportional to time, spread to at least MIN_GAP apart. */
function positions(times: number[]): number[] {
  if (times.length === 0) return [];
  const t0 = times[0]!;
  const span = times[times.length - 1]! - t0;
  const xs = times.map((t) => (span === 0 ? WIDTH / 2 : PAD + ((WIDTH - 2 * PAD) * (t - t0)) / span));
  for (let i = 1; i < xs.length; i++) xs[i] = Math.max(xs[i]!, xs[i - 1]! + MIN_GAP);
  return xs;
}

/** Pick a backup (a point in time) of one source. */
export function Timeline({ backups, selectedId, onSelect }: { backups: ListedBackup[]; selectedId: string | undefined; onSelect: (b: ListedBackup) => void }) {
  const markers = useRef<(SVGGElement | null)[]>([]);
  const xs = positions(backups.map((b) => Date.parse(b.createdAt)));
  const width = Math.max(WIDTH, (xs[xs.length - 1] ?? 0) + PAD);
  const selectedIndex = backups.findIndex((b) => b.id === selectedId);
  const focusable = selectedIndex === -1 ? backups.length - 1 : selectedIndex;

  function move(event: KeyboardEvent, index: number) {
    const target = { ArrowRight: index + 1, ArrowDown: index + 1, ArrowLeft: index - 1, ArrowUp: index - 1, Home: 0, End: backups.length - 1 }[event.key];
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelect(backups[index]!);
      return;
    }
    if (target === undefined) return;
    event.preventDefault();
    const next = Math.max(0, Math.min(backups.length - 1, target));
    onSelect(backups[next]!);
    markers.current[next]?.focus();
  }

  if (backups.length === 0) return <p className="muted">This source has no backups yet.</p>;
  return (
    <div className="timeline">
      <svg viewBox={`0 0 ${width} 64`} role="radiogroup" aria-label="Backups of this source, oldest to newest (arrow keys move)" className="timeline-svg">
        <line x1={PAD / 2} x2={width - PAD / 2} y1={28} y2={28} className="timeline-axis" />
        {backups.map((b, i) => {
          const checked = b.id === selectedId;
          return (
            <g
              key={b.id}
              ref={(el) => {
                markers.current[i] = el;
              }}
              role="radio"
              aria-checked={checked}
              aria-label={`${b.level} backup of ${formatLocalTime(new Date(b.createdAt))}`}
              tabIndex={i === focusable ? 0 : -1}
              className={checked ? 'timeline-marker selected' : 'timeline-marker'}
              data-backup-id={b.id}
              onClick={() => onSelect(b)}
              onKeyDown={(e) => move(e, i)}
            >
              <title>{`${formatUtc(new Date(b.createdAt))} · ${b.level} · ${b.files} files`}</title>
              <circle cx={xs[i]} cy={28} r={checked ? 11 : 8} />
              {b.level === 'full' && <circle cx={xs[i]} cy={28} r={3} className="timeline-full" />}
            </g>
          );
        })}
      </svg>
      <div className="timeline-ends muted">
        <Time value={backups[0]!.createdAt} />
        {backups.length > 1 && <Time value={backups[backups.length - 1]!.createdAt} />}
      </div>
    </div>
  );
}
