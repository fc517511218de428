import type { ReadConcernLevel, W } from 'mongodb';

/** Settings of the MongoDB catalog; defaults suit a replica set (majority). */
export interface MongoCatalogConfig {
  /** TLS settings for the driver (also possible in the URL): `tls`, `tlsCAFile`, `tlsCertificateKeyFile`. */
  readonly clientOptions?: { tls?: boolean; tlsCAFile?: string; tlsCertificateKeyFile?: string };
  /** Collection name prefix, e.g. `tresor_` (default none). */
  readonly collectionPrefix?: string;
  /** Write concern for every write (default `majority`, journaled). */
  readonly writeConcern?: { w?: W; j?: boolean; wtimeoutMS?: number };
  /** Read concern for every read (default `majority`). */
  readonly readConcern?: ReadConcernLevel;
  /** A pending backup older than this is a dead writer's: swept at open and by `sweepPending` (default 1 h). */
  readonly stalePendingMs?: number;
  /** Entries written per insertMany while a backup is added (default 1000). */
  readonly batchSize?: number;
}

export const DEFAULT_STALE_PENDING_MS = 3600_000;
