/**
 * When journal files are synced (fdatasync, off the event loop but for a lone 'always' change), for journal-writer.ts:
 * - `everysec`: a timer syncs the current journal about every second when something was written since the last sync.
 * - `always`: a sync begins as soon as records are written and none is running; the records written while one runs
 *   share the next (group commit). Callbacks wait for a sync that began after their record was written. A turn
 *   that wrote one record (of at most 64 KiB) while no sync runs syncs it on the event loop (`inline`) when the last sync started that
 *   way off the loop held one change and none was written while it ran: callers that wait for each change before
 *   the next (a script, a queue) have nothing to share a sync with, and the hand-off to the thread pool and back
 *   costs about half a sync again (50-70 µs here, `bench/sync-cost.mjs`), which SQLite, syncing every commit on
 *   the caller's thread, does not pay. After a sync of several changes, or one that others joined (a server with
 *   requests in flight), lone changes sync off the loop: a sync on it stalls every other request for its whole
 *   duration (over HTTP, syncing every lone change on the loop cost 5-7% of the requests per second).
 * - after a rotation, the journals replaced ("retiring") are synced until nothing written to them is unsynced, then
 *   closed; the new journal's records wait for that, so only the last journal holding records can have a torn tail.
 * A failed sync is never retried on the same file and trusted: it is handed to the writer, which fails the journal.
 */
import { later, type AnyCallback } from '../store/callback.js';
import { closeQuietly, type JournalFile, type JournalIo } from './journal-file.js';
import { JournalError } from './journal-failure.js';
import type { JournalMode } from './persistence-stats.js';

const SYNC_EVERY_MS = 1000;
/**
 * The largest lone change synced on the event loop. The loop saves the thread pool's round trip (50-70 µs), which
 * counts against the sync of a record of a few KB; a larger one's sync costs its writeback, which every request would
 * wait for there (a 20 MB session held the loop 16 ms on a fast disk).
 */
const LONE_SYNC_MAX_BYTES = 64 * 1024;

/** Whether a turn's write of `records` records, `bytes` bytes, is a lone change that may be synced on the event loop. */
export function isLone(records: number, bytes: number): boolean {
  return records === 1 && bytes <= LONE_SYNC_MAX_BYTES;
}

/** What the scheduler needs from the writer. */
export interface SyncHooks {
  /** The journal appends go to, synced by the 'everysec' timer. */
  current(): JournalFile | undefined;
  /** Whether the journal has failed: nothing more is synced and trusted until a snapshot recovers it. */
  failed(): boolean;
  /** A sync failed; `waiters` are the callbacks that waited for it. */
  syncFailed(file: JournalFile, err: unknown, waiters: AnyCallback[]): void;
  /** Every retiring journal is synced and closed. */
  allRetired(): void;
  clock(): number;
}

export class SyncScheduler {
  readonly #mode: JournalMode;
  readonly #io: JournalIo;
  readonly #hooks: SyncHooks;
  /** Older journals still being synced after a switch, oldest first: the current one's records wait for them all. */
  #retiring: JournalFile[] = [];
  /** Callbacks waiting on a sync that is running (taken out of their file's waiters when it began). */
  #inSync = 0;
  #lastSyncAt: number | undefined;
  #delayedSyncs = 0;
  /**
   * Files whose running sync was counted delayed: a sync is counted once, whether a tick finds it running or it ends
   * late. One sync of 2.5 s counted 3 (two ticks, then its end).
   */
  readonly #countedDelayed = new WeakSet<JournalFile>();
  /**
   * Whether the last sync of the current journal that a write started off the loop held one change, and no record was
   * written while it ran: changes come one at a time, and a lone one is synced on the loop.
   */
  #ranAlone = false;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(mode: JournalMode, io: JournalIo, hooks: SyncHooks) {
    this.#mode = mode;
    this.#io = io;
    this.#hooks = hooks;
    if (mode === 'everysec') {
      this.#timer = setInterval(() => {
        const current = hooks.current();
        if (current?.syncing === true) this.#countDelayed(current);
        else if (current?.unsynced === true) this.sync(current);
      }, SYNC_EVERY_MS).unref();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** When the last sync completed (ms since the epoch). */
  get lastSyncAt(): number | undefined {
    return this.#lastSyncAt;
  }

  /** Syncs that took longer than a second, or that the next one, due, found still running; each counted once. */
  get delayedSyncs(): number {
    return this.#delayedSyncs;
  }

  #countDelayed(file: JournalFile): void {
    if (this.#countedDelayed.has(file)) return;
    this.#countedDelayed.add(file);
    this.#delayedSyncs++;
  }

  /** Callbacks waiting for a sync, running or to come, on any journal other than `current`'s pending records. */
  waiting(current: JournalFile | undefined): number {
    return this.#inSync + (current?.waiters.length ?? 0) + this.#retiring.reduce((n, f) => n + f.waiters.length, 0);
  }

  /** The newest journal still retiring: a change written to it is durable once it is synced. */
  get newestRetiring(): JournalFile | undefined {
    return this.#retiring.at(-1);
  }

  get retiring(): boolean {
    return this.#retiring.length > 0;
  }

  /**
   * Starts a sync of `file` if something written to it is unsynced and none is running; with nothing unsynced, calls
   * its waiters.
   * @param lone - a turn's lone 'always' change: synced on the event loop (fdatasyncSync) if the last sync ran alone.
   */
  sync(file: JournalFile, lone = false): void {
    this.#sync(file, lone, true);
  }

  /** @param fresh - started by a write (or the timer), not by the end of a sync that records were written during. */
  #sync(file: JournalFile, lone: boolean, fresh: boolean): void {
    if (file.syncing || this.#hooks.failed()) return;
    if (!file.unsynced) {
      for (const cb of file.waiters.splice(0)) later(cb, null);
      if (file.retiring) this.#retired(file);
      return;
    }
    const inline = lone && this.#ranAlone;
    file.syncing = true;
    this.#countedDelayed.delete(file);
    file.unsynced = false;
    const waiters = file.waiters.splice(0);
    this.#inSync += waiters.length;
    const started = performance.now();
    const done = (err: unknown): void => {
      file.syncing = false;
      this.#inSync -= waiters.length;
      if (file.closeAfterSync) {
        closeQuietly(this.#io, file.fd);
        // Given up while this sync ran: only the changes that waited for it learn how it went. Its failure fails no
        // journal: every snapshot that can end the failure it was given up for copied memory after its records.
        const error = err && this.#mode === 'always' ? new JournalError(file.path, err) : null;
        for (const cb of waiters) later(cb, error);
        return;
      }
      if (err) {
        this.#hooks.syncFailed(file, err, waiters);
        return;
      }
      if (performance.now() - started > SYNC_EVERY_MS) this.#countDelayed(file);
      if (fresh && !inline && file === this.#hooks.current()) this.#ranAlone = waiters.length <= 1 && !file.unsynced;
      this.#lastSyncAt = this.#hooks.clock();
      for (const cb of waiters) later(cb, null);
      if (file.waiters.length > 0 || file.retiring || (file.unsynced && this.#mode === 'always')) this.#sync(file, false, false);
    };
    if (!inline) {
      this.#io.fdatasync(file.fd, done);
      return;
    }
    let failure: unknown = null;
    try {
      this.#io.fdatasyncSync(file.fd);
    } catch (err) {
      failure = err ?? new Error('fdatasync failed');
    }
    done(failure);
  }

  /**
   * Syncs `old` until nothing written to it is unsynced, then closes it. Without `sync` (the journal failed) its
   * waiters get `error` and it is closed at once.
   */
  retire(old: JournalFile, sync: boolean, error: Error | undefined): void {
    if (!sync) {
      for (const cb of old.waiters.splice(0)) later(cb, error);
      this.close(old);
      return;
    }
    old.retiring = true;
    this.#retiring.push(old);
    if (old.syncing) return; // its completion sees `retiring`
    old.unsynced = true; // one sync after the switch, whatever ran before
    this.sync(old);
  }

  #retired(old: JournalFile): void {
    this.#retiring = this.#retiring.filter((f) => f !== old);
    closeQuietly(this.#io, old.fd);
    if (this.#retiring.length === 0 && !this.#hooks.failed()) this.#hooks.allRetired();
  }

  /** After a failure: takes the retiring journals' waiters and closes them (nothing in them is trusted any more). */
  abandonRetiring(): AnyCallback[] {
    const waiters = this.#retiring.flatMap((f) => f.waiters.splice(0));
    for (const f of this.#retiring.splice(0)) this.close(f);
    return waiters;
  }

  /** Closes `file` now, or when the sync of it that is running completes (its descriptor is in use until then). */
  close(file: JournalFile): void {
    if (file.syncing) file.closeAfterSync = true;
    else closeQuietly(this.#io, file.fd);
  }
}
