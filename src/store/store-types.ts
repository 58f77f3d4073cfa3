/** The store's public types that are not the class itself: its stats view and the error after `close()`. */
import type { PersistenceStats } from '../files/persistence-stats.js';

/** The `store.stats` view. */
export interface StoreStats {
  /** Entries in memory (expired ones not yet pruned included, as `length`). */
  sessions: number;
  /** Bytes of ids and stored sessions in memory (what `maxSize` bounds). */
  bytes: number;
  /** Changes since the store was created. */
  changes: number;
  /** The snapshot file's side; `undefined` for a memory-only store. */
  persistence: PersistenceStats | undefined;
}

/** Error given to calls made after `close()`. */
export class StoreClosedError extends Error {
  readonly code = 'ERR_STORE_CLOSED';
  constructor() {
    super('express-memfilestore: the store is closed');
    this.name = 'StoreClosedError';
  }
}

