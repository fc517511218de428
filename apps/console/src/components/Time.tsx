import { formatLocalTime, formatUtc, toDate } from './format';

/** A point in time in the user's zone; hovering shows UTC. */
export function Time({ value }: { value: string | number | Date | null | undefined }) {
  const date = value === null || value === undefined ? null : toDate(value);
  if (!date) return <span>—</span>;
  return (
    <time dateTime={date.toISOString()} title={formatUtc(date)}>
      {formatLocalTime(date)}
    </time>
  );
}
