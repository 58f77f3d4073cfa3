/**
 * The store's public types that are not the class itself: its stats view, its events and their listener methods, the
 * ids its methods take, and the error after `close()`.
 */
import type { LoadInfo, PersistenceStats, SaveInfo } from '../files/persistence-stats.js';

/** The `store.stats` view. */
export interface StoreStats {
  /** Entries in memory (expired ones not yet pruned included, as `length`). */
  sessions: number;
  /** Bytes of ids and stored sessions in memory (what `maxSize` bounds). */
  bytes: number;
  /**
   * Changes since the store was created (the file's load excluded). A read that moves a session in the LRU order
   * counts: the snapshot keeps that order, and a periodic snapshot is saved when this moved since the last one.
   */
  changes: number;
  /** The snapshot file's side; `undefined` for a memory-only store. */
  persistence: PersistenceStats | undefined;
}

/**
 * Error given to calls made after `close()` (and `flush()`'s rejection then): its `code` is `'ERR_STORE_CLOSED'`. One
 * class whether the package is loaded with `require` or `import`, so `instanceof` holds either way.
 */
export class StoreClosedError extends Error {
  readonly code = 'ERR_STORE_CLOSED';
  /** @param file - the store's `saveFile`, named in the message. */
  constructor(file?: string) {
    // The usual cause is a request still running when the app closed the store: say which store, and the fix.
    super(`express-memfilestore: the store${file === undefined ? '' : ` of "${file}"`} is closed: close() was called, and ` +
      'it takes no more calls. Close the HTTP server first, and the store in its callback, so that no request still uses it');
    this.name = 'StoreClosedError';
  }
}

/** The store's own events and their arguments (express-session's `'connect'`/`'disconnect'` and others are untyped). */
export interface MemFileStoreEvents {
  /**
   * Once, after the files were read at start, on the next tick (a listener added right after `new` hears it). Only
   * for a store with `saveFile` whose start succeeded; `stats.persistence.load` holds the same.
   */
  load: [info: LoadInfo];
  /** After each successful snapshot, the final one of `close()` included (as `stats.persistence.lastSave`). */
  save: [info: SaveInfo];
  /**
   * A failure nobody called for: a failed periodic save or one the journal's size started, a failed `close()` that
   * `closeOnSignals` started, a failed journal write or sync (code 'ERR_JOURNAL_FAILED', once per failure), an
   * exception in `dispose` or in a listener of `'load'`/`'save'` (or their promise's rejection), a `clock` reading that
   * is not a number of ms. Without an `'error'` listener it is a process warning, never an exception: a background
   * failure does not crash the server, and is not silent. The README's "Errors" table lists every `code`.
   */
  error: [err: Error];
}

/**
 * A session id: a string, as express-session passes; a finite number or a bigint is accepted and converted to its
 * string (`set(1, …)` then `get('1')`), as in express-session's MemoryStore. Anything else calls back with a TypeError.
 */
export type SessionId = string | number | bigint;

export type EventName = keyof MemFileStoreEvents;
export type EventListener<K extends EventName> = (...args: MemFileStoreEvents[K]) => void;
export type OtherListener = (...args: never[]) => void;
