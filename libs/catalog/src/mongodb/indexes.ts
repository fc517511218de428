import type { Collection, CreateIndexesOptions, Document, IndexSpecification } from 'mongodb';

export interface IndexDeclaration {
  readonly key: Record<string, 1 | -1>;
  readonly name: string;
  readonly unique?: boolean;
  readonly sparse?: boolean;
}

/**
 * Creates the declared indexes that do not exist yet (by name). Indexes that exist are left alone:
 * FerretDB v1 panics when asked to create an existing compound index again.
 */
export async function ensureIndexes<T extends Document>(collection: Collection<T>, declared: readonly IndexDeclaration[]): Promise<void> {
  let existing: string[] = [];
  try {
    existing = (await collection.indexes()).map((i) => String(i.name));
  } catch (err) {
    if (!/ns does not exist|NamespaceNotFound/i.test(String((err as Error).message))) throw err;
  }
  for (const index of declared) {
    if (existing.includes(index.name)) continue;
    const options: CreateIndexesOptions = { name: index.name, ...(index.unique ? { unique: true } : {}), ...(index.sparse ? { sparse: true } : {}) };
    await collection.createIndex({ ...index.key } as IndexSpecification, options);
  }
}
