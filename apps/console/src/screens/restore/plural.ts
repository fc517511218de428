import { formatCount } from '../../components/format';

/** `1 file`, `2 files`, `12,345 entries`: a count with its noun. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
