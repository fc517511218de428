import { formatBytes, formatCount } from './format';

/** A size with a binary unit; hovering shows the exact byte count. */
export function Bytes({ value }: { value: number | null | undefined }) {
  if (value === null || value === undefined) return <span>—</span>;
  return <span title={`${formatCount(value)} bytes`}>{formatBytes(value)}</span>;
}
