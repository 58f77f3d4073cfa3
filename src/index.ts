import { MemFileStore as MemFileStoreClass, StoreClosedError as StoreClosedErrorClass } from './store/store.js';
import * as optionTypes from './option-types.js';
import * as storeTypes from './store/store-types.js';
import * as statsTypes from './files/persistence-stats.js';

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
  /**
   * The store class, as the factory returns it (`import { MemFileStore } from 'express-memfilestore'`): an
   * express-session store keeping sessions in memory, in an LRU cache with expiry, and with `saveFile` persisting them
   * to a snapshot file and a journal beside it. See {@link MemFileStoreOptions}.
   */
  export const MemFileStore = MemFileStoreClass;
  export type MemFileStore = MemFileStoreClass;
  /**
   * Error given to calls made after `close()`: its `code` is `'ERR_STORE_CLOSED'`. The one error class exported: test the
   * other errors' `code` (the README's "Errors" table lists them all).
   */
  export const StoreClosedError = StoreClosedErrorClass;
  export type StoreClosedError = StoreClosedErrorClass;
  // Aliases of the declarations, not `type X = ...`: an editor follows an alias to its doc comment.
  export import MemFileStoreOptions = optionTypes.MemFileStoreOptions;
  export import PublicOptions = optionTypes.PublicOptions;
  export import Serializer = optionTypes.Serializer;
  export import TtlFunction = optionTypes.TtlFunction;
  export import DisposeFunction = optionTypes.DisposeFunction;
  export import DisposeReason = optionTypes.DisposeReason;
  export import StoredSession = optionTypes.StoredSession;
  export import JournalOption = optionTypes.JournalOption;
  export import StoreStats = storeTypes.StoreStats;
  export import PersistenceStats = statsTypes.PersistenceStats;
  export import JournalStats = statsTypes.JournalStats;
  export import SaveInfo = statsTypes.SaveInfo;
  export import LoadInfo = statsTypes.LoadInfo;
  export import MemFileStoreEvents = storeTypes.MemFileStoreEvents;
  export import SessionId = storeTypes.SessionId;
}

export = memFileStore;
