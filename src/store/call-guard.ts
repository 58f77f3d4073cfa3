/**
 * The checks every call starts with: the store is open and its file usable, a change can be made durable, and the id
 * is well formed. On a refusal the callback gets the reason, later.
 */
import { later, type AnyCallback } from './callback.js';
import { toId } from './ids.js';
import { StoreClosedError } from './store-types.js';

export class CallGuard {
  /** Why the snapshot file could not be used at start; every call then fails with it. */
  failed: Error | undefined;
  closed = false;
  /** 'always' journal: a change is refused while the journal cannot sync it. */
  readonly #always: boolean;
  readonly #refusal: () => Error | undefined;
  #failedForGet: Error | undefined;
  readonly #file: string | undefined;

  /**
   * @param refusal - why the journal cannot make a change durable now (an 'always' journal that failed), if so.
   * @param file - the saveFile, which the error after close() names.
   */
  constructor(always: boolean, refusal: () => Error | undefined, file: string | undefined) {
    this.#always = always;
    this.#refusal = refusal;
    this.#file = file;
  }

  /** Why calls cannot be served: closed, or the snapshot file could not be used at start. */
  unusable(): Error | undefined {
    return this.failed ?? (this.closed ? new StoreClosedError(this.#file) : undefined);
  }

  /**
   * As {@link check}, for a `get`. express-session takes a get error whose `code` is 'ENOENT' (a file-per-session
   * store's missing file) for "no such session": with a saveFile whose directory is missing, every request would be
   * served as a stranger's and its session never saved, silently. So get gives that start error wrapped, with its
   * message and another code.
   */
  checkGet(sid: unknown, callback: AnyCallback | undefined): string | undefined {
    const failed: NodeJS.ErrnoException | undefined = this.failed;
    if (failed?.code !== 'ENOENT') return this.check(sid, callback);
    this.#failedForGet ??= Object.assign(new Error(failed.message, { cause: failed }), { code: 'ERR_SNAPSHOT_UNUSABLE' });
    later(callback, this.#failedForGet);
    return undefined;
  }

  /**
   * Calls back with the reason when the store cannot serve calls, or cannot make a `change` durable (an 'always'
   * journal that failed, until a snapshot recovers); says whether it did.
   */
  refused(callback: AnyCallback | undefined, change = false): boolean {
    const unusable = this.unusable() ?? (change && this.#always ? this.#refusal() : undefined);
    if (unusable !== undefined) later(callback, unusable);
    return unusable !== undefined;
  }

  /** The id to use for `sid`, or `undefined` after calling back with why the call is refused. */
  check(sid: unknown, callback: AnyCallback | undefined, change = false): string | undefined {
    // The common case, an open store and a well-formed string id, in a few tests.
    if (this.failed === undefined && !this.closed && typeof sid === 'string' && sid.isWellFormed() &&
        (!change || !this.#always || this.#refusal() === undefined)) return sid;
    if (this.refused(callback, change)) return undefined;
    const id = toId(sid);
    if (typeof id === 'string') return id;
    later(callback, id);
    return undefined;
  }

  /** The ids of a list for a change, or `undefined` after calling back with why the call is refused. */
  checkList(list: readonly unknown[], callback: AnyCallback | undefined): string[] | undefined {
    if (this.refused(callback, true)) return undefined;
    const ids: string[] = [];
    for (const raw of list) {
      const id = toId(raw);
      if (id instanceof TypeError) {
        later(callback, id);
        return undefined;
      }
      ids.push(id);
    }
    return ids;
  }
}
