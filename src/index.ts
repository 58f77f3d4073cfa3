import { MemFileStore as MemFileStoreClass, StoreClosedError as StoreClosedErrorClass } from './store/store.js';
import type { MemFileStoreEvents as MemFileStoreEventsType, SessionId as SessionIdType } from './store/store.js';
import type * as optionTypes from './options.js';
import type * as storeTypes from './store/store-types.js';
import type * as statsTypes from './files/persistence-stats.js';

/**
 * memorystore's and express-memfilestore 1.x's module shape:
 * `const MemFileStore = require('express-memfilestore')(session)`.
 *
 * Accepts express-session's module (or any object with a `Store` constructor, as memorystore's own tests
 * pass) and returns the {@link MemFileStore} class, which extends the express-session this package
 * resolves as its peer dependency.
 * @throws TypeError when `session` is given but has no `Store` constructor.
 */
function memFileStore(session?: { Store: (abstract new (...args: never[]) => unknown) | ((...args: never[]) => unknown) }): typeof MemFileStoreClass {
  if (session !== undefined && (session === null || typeof session !== 'object' && typeof session !== 'function' ||
      typeof session.Store !== 'function')) {
    throw new TypeError('express-memfilestore: pass the express-session module, e.g. require("express-session")');
  }
  return MemFileStoreClass;
}

// eslint-disable-next-line @typescript-eslint/no-namespace
namespace memFileStore {
  /** The store class, for `import { MemFileStore } from 'express-memfilestore'`. */
  export const MemFileStore = MemFileStoreClass;
  export type MemFileStore = MemFileStoreClass;
  /** Error given to calls made after `close()`. */
  export const StoreClosedError = StoreClosedErrorClass;
  export type StoreClosedError = StoreClosedErrorClass;
  export type MemFileStoreOptions = optionTypes.MemFileStoreOptions;
  export type PublicOptions = optionTypes.PublicOptions;
  export type Serializer = optionTypes.Serializer;
  export type TtlFunction = optionTypes.TtlFunction;
  export type DisposeFunction = optionTypes.DisposeFunction;
  export type DisposeReason = optionTypes.DisposeReason;
  export type StoredSession = optionTypes.StoredSession;
  export type JournalOption = optionTypes.JournalOption;
  /** The `store.stats` view. */
  export type StoreStats = storeTypes.StoreStats;
  /** `store.stats.persistence`. */
  export type PersistenceStats = statsTypes.PersistenceStats;
  /** `store.stats.persistence.journal`. */
  export type JournalStats = statsTypes.JournalStats;
  /** `store.stats.persistence.lastSave` and the `'save'` event's payload. */
  export type SaveInfo = statsTypes.SaveInfo;
  /** `store.stats.persistence.load` and the `'load'` event's payload. */
  export type LoadInfo = statsTypes.LoadInfo;
  /** The store's events (`'load'`, `'save'`, `'error'`) and their arguments. */
  export type MemFileStoreEvents = MemFileStoreEventsType;
  /** A session id as the store's methods take it: a string, or a finite number or bigint (converted). */
  export type SessionId = SessionIdType;
}

export = memFileStore;
