import { isValidKeySegment } from '../keys.js';
import type { ObjectInfo } from '../object-store.js';

/** One entry of a directory on a file-tree backend (SFTP, FTP). */
export interface TreeItem {
  readonly name: string;
  readonly isDir: boolean;
  readonly size: number;
  readonly modified?: Date;
}

/**
 * Lists the objects of a file tree whose keys start with `prefix`, in key order, with one directory
 * listing per level. A directory sorts as its name plus '/', because every key below it starts with
 * that (`a-b` < `a/x` < `a0`); so a depth-first walk of sorted listings yields sorted keys.
 * `readDir` returns [] for a missing directory; names that cannot be key segments are skipped.
 */
export async function* walkInKeyOrder(
  prefix: string,
  readDir: (dirKey: string) => Promise<TreeItem[]>,
  skipAtRoot: string,
): AsyncIterable<ObjectInfo> {
  const slash = prefix.lastIndexOf('/');
  const startDir = slash === -1 ? '' : prefix.slice(0, slash);
  if (startDir === skipAtRoot || startDir.startsWith(`${skipAtRoot}/`)) return;
  const sorted = async (dirKey: string): Promise<TreeItem[]> =>
    (await readDir(dirKey))
      .filter((item) => isValidKeySegment(item.name) && !(dirKey === '' && item.name === skipAtRoot))
      .sort((a, b) => compare(sortKey(a), sortKey(b)));
  const stack: { dirKey: string; items: TreeItem[]; next: number }[] = [
    { dirKey: startDir, items: await sorted(startDir), next: 0 },
  ];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const item = top.items[top.next++];
    if (item === undefined) {
      stack.pop();
      continue;
    }
    const key = top.dirKey === '' ? item.name : `${top.dirKey}/${item.name}`;
    if (item.isDir) {
      const dirPrefix = `${key}/`;
      if (dirPrefix.startsWith(prefix) || prefix.startsWith(dirPrefix)) {
        stack.push({ dirKey: key, items: await sorted(key), next: 0 });
      }
    } else if (key.startsWith(prefix)) {
      yield { key, size: item.size, modified: item.modified };
    }
  }
}

function sortKey(item: TreeItem): string {
  return item.isDir ? `${item.name}/` : item.name;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
