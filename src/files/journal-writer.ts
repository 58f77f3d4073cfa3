/**
 * Appends changes to the journal between snapshots (format: journal-format.ts), and switches journals at snapshots.
 *
 * The records of one event-loop turn are encoded into one buffer (journal-batch.ts) and written with one `write` at the
 * end of the turn (a `setImmediate` queued by the turn's first record, so it runs before the callbacks the store queued
 * after it). A synchronous write to the page cache costs about 4 µs here against about 45 µs of CPU for an asynchronous
 * one, and a process that dies after the write (kill -9, out of memory) loses nothing of it. Syncs run off the event
 * loop, but for a lone 'always' change (journal-sync.ts). At a rotation (journal-rotation.ts) the new journal's records
 * are held back until every older journal is synced, so only the last journal holding records can have a torn tail. A
 * failed write or sync fails the journal (journal-failure.ts) until a snapshot with a fresh journal recovers it.
 */
import { later, type AnyCallback } from '../store/callback.js';
import type { JournalOp } from './journal-format.js';
import { RecordBatch } from './journal-batch.js';
import {
  appendRecords, createFirstJournal, removeQuietly, reopenJournal, type JournalFile, type JournalIo,
} from './journal-file.js';
import { journalPath, type JournalTail } from './journal-reader.js';
import { createNextJournal, Rotations, type Opening } from './journal-rotation.js';
import { JournalFailure, type JournalError } from './journal-failure.js';
import { JournalSize } from './journal-size.js';
import { isLone, SyncScheduler } from './journal-sync.js';
import type { JournalMode, JournalStats } from './persistence-stats.js';

export type { JournalMode, JournalStats } from './persistence-stats.js';

export interface JournalHooks {
  /** The journal passed its size limit: a snapshot should absorb it. */
  grown(): void;
  /** A write or sync failed (once per failure, not per record). */
  failed(err: JournalError): void;
  clock(): number;
}

export class JournalWriter {
  readonly #mode: JournalMode;
  readonly #io: JournalIo;
  readonly #hooks: JournalHooks;
  readonly #saveFile: string;
  readonly #syncs: SyncScheduler;
  /** `undefined` until the first change after a start that found no journal to continue. */
  #file: JournalFile | undefined;
  /** How a journal created at the first change starts its chain. */
  readonly #start: { gen: number; after: string };
  readonly #batch = new RecordBatch(() => { this.#write(); });
  /** Records for a new journal wait until the old one is synced or the snapshot naming the new one is durable. */
  #held = false;
  readonly #failure = new JournalFailure();
  readonly #size: JournalSize;
  #closed = false;
  readonly #rotations = new Rotations();
  #closing: Promise<void> | undefined;
  /** The journal a start reopened to append to, if any. */
  readonly #reopened: JournalFile | undefined;
  /** close() waiting for held records to be released. */
  #onRelease: (() => void)[] = [];

  /**
   * Opens the journal to append to: the last one replayed (`tail`), or else (at the first change) a new one continuing
   * `start.after` (`s:<sha256>` of the snapshot loaded, `s:-` for none). Synchronous: it runs in the store's constructor.
   * @param replayed - bytes and records already appended since the snapshot (the journals replayed).
   * @param limit - journal bytes that call for a snapshot.
   */
  constructor(mode: JournalMode, io: JournalIo, hooks: JournalHooks, saveFile: string, tail: JournalTail | undefined,
    start: { gen: number; after: string }, replayed: { bytes: number; records: number }, limit: number) {
    this.#mode = mode;
    this.#io = io;
    this.#hooks = hooks;
    this.#saveFile = saveFile;
    this.#file = tail === undefined ? undefined : reopenJournal(io, tail);
    this.#reopened = this.#file;
    this.#start = start;
    this.#size = new JournalSize(replayed, limit);
    this.#syncs = new SyncScheduler(mode, io, {
      current: () => this.#file,
      failed: () => this.#failed,
      syncFailed: (failed, err, waiters) => { this.#fail(failed.path, err, waiters); },
      allRetired: () => { this.#release(); },
      clock: () => hooks.clock(),
    });
  }

  /** The journal to append to, created at the first change: a store nobody writes to leaves no file behind. */
  #current(): JournalFile | undefined {
    if (this.#file !== undefined) return this.#file;
    try {
      return createFirstJournal(this.#io, this.#saveFile, this.#start, this.#hooks.clock(), (file) => { this.#file = file; });
    } catch (err) {
      // Found inside a change (even an eviction, inside lru-cache's set): an 'error' listener that changed the store
      // from there corrupted the cache (a session served that ids() did not list, past `max`). Reported on the next turn.
      this.#fail(journalPath(this.#saveFile, this.#start.gen), err, [], true);
      return undefined;
    }
  }

  /** Journal bytes that call for a snapshot; follows the size of the last snapshot written. */
  set limit(bytes: number) {
    this.#size.limit = bytes;
  }

  get stats(): JournalStats {
    return {
      mode: this.#mode,
      file: this.#file?.path ?? journalPath(this.#saveFile, this.#start.gen),
      generation: this.#file?.gen ?? this.#start.gen,
      bytes: this.#size.bytes,
      records: this.#size.records,
      // Changes, not records. With the journal a rotation replaces: its switch's records wait there until it retires.
      pending: this.#batch.changes + this.#syncs.waiting(this.#file) + (this.#rotations.replaced?.waiters.length ?? 0),
      lastSyncAt: this.#syncs.lastSyncAt,
      delayedSyncs: this.#syncs.delayedSyncs,
      failed: this.#failed,
      lastError: this.#failure.last?.message,
    };
  }

  /** The error every change gets in 'always' mode until the store has recovered; `undefined` when healthy. */
  get refusal(): JournalError | undefined {
    return this.#mode === 'always' ? this.#failure.error : undefined;
  }

  get failed(): boolean {
    return this.#failed;
  }

  get #failed(): boolean {
    return this.#failure.error !== undefined;
  }

  /** Whether a journal file exists (one is created at the first change after a start that found none). */
  get started(): boolean {
    return this.#file !== undefined;
  }

  /** Appends a change; it is written at the end of this event-loop turn. */
  append(op: JournalOp, id: string, expires: number, value: string): void {
    // Failed: dropped, as the snapshot that recovers copies memory after it; held: kept for the new journal.
    if (this.#closed || (this.#failed && !this.#held)) return;
    const file = this.#current();
    if (file === undefined) return;
    this.#batch.encode(file, op, id, expires, value, this.#held);
  }

  /**
   * Calls back once every change appended so far is durable ('always'), with a {@link JournalError} if it cannot
   * be. In 'everysec' mode it calls back once the change is written: on the next turn, or for a change a rotation
   * holds back, after the journal releases it.
   */
  afterDurable(callback: AnyCallback | undefined): void {
    const cb = callback ?? noop;
    if (this.#mode !== 'always') {
      // 'everysec' promises the OS has the change before its callback: a kill -9 then loses nothing acknowledged.
      // A change held back during a rotation waits for its write (a few syncs, once per snapshot); not while the
      // journal has failed: memory serves it, and the recovery snapshot will hold it.
      if (this.#held && !this.#failed && this.#batch.records > 0) this.#batch.wait(cb);
      else {
        // Called back after the write (scheduled after it): pending until then.
        if (this.#batch.records > 0) this.#batch.count();
        later(cb, null);
      }
      return;
    }
    // The change was dropped by a failure in its own append (the journal could not even be created).
    if (this.#failed) return later(cb, this.#failure.error);
    if (this.#batch.records > 0) {
      this.#batch.wait(cb);
      return;
    }
    // A change that appended nothing waits for the newest journal holding records: one retiring, or the one a
    // rotation replaces while the next is created (its records were written at the switch, their sync may run).
    const file = this.#syncs.newestRetiring ?? this.#rotations.replaced ?? this.#file;
    if (file === undefined || (!file.unsynced && !file.syncing)) return later(cb, null);
    file.waiters.push(cb);
    this.#syncs.sync(file);
  }

  /**
   * Switches appends to a new journal, in the same synchronous step as the snapshot's copy of memory, so every
   * change is in the copy or in the new journal. Its records are held back until {@link openNext} has created it
   * and the old journal's last sync has completed. A journal that holds nothing yet is kept instead ({@link #reusable}):
   * the copy holds every change, and the snapshot names it.
   * @returns the journal the snapshot hands over to.
   */
  rotate(): { gen: number; token: string } {
    // What this turn appended belongs before the copy: into the old journal, now.
    this.#write();
    const reused = this.#reusable();
    if (reused !== undefined) return { gen: reused.gen, token: reused.token };
    const { next } = this.#rotations.plan(this.#saveFile, this.#file, this.#start, this.#failure.error);
    // Still held (the last snapshot failed before the old journal's final sync): the records waiting were encoded
    // for a journal that will never receive them. They go first in the new one, re-encoded with its salt and seq.
    // Not while the journal has failed: nothing acknowledged waits for them, and the copy taken with this switch holds
    // them (carried, they grew with every change for as long as recovery snapshots kept failing).
    this.#batch.restartFor(next, this.#held && !this.#failed);
    this.#file = next;
    this.#size.switched();
    this.#held = true;
    return { gen: next.gen, token: next.token };
  }

  /**
   * The journal appends go to, when a snapshot can name it instead of a new one: it holds no record (none encoded for
   * it), and its header and directory entry are durable. A snapshot retried while the disk has no room for it (each
   * `savePeriod`) otherwise left one more journal holding nothing per retry, taking a block and an inode of the little
   * room left. Not one reopened at start: its creation may not have reached the directory before a crash.
   */
  #reusable(): JournalFile | undefined {
    const file = this.#file;
    if (file === undefined || this.#failed) return undefined;
    // Kept out though no crash state tells them apart (scripts/mutation-explained.json says why for each): a journal
    // reopened at start, one whose records are held, one a failed journal's recovery created.
    if (file === this.#reopened || this.#held || this.#rotations.unnamed !== undefined) return undefined;
    return file.ready && file.seq === 1 && this.#batch.records === 0 && !file.unsynced && !file.syncing ? file : undefined;
  }

  /**
   * Creates the journal {@link rotate} switched to: header written and synced, directory synced, before the
   * snapshot naming it is written. Then retires the old journal.
   * @throws the fs error; the journal is then failed (a snapshot recovers it).
   */
  async openNext(syncDirectory: () => Promise<void>): Promise<void> {
    const opening = this.#rotations.take();
    if (opening === undefined) return;
    const { next, old } = opening;
    try {
      await createNextJournal(this.#io, this.#saveFile, opening, this.#hooks.clock(), syncDirectory);
    } catch (err) {
      // The records held for it have nowhere to go: failed, until a snapshot copies memory again.
      this.#fail(next.path, err, []);
      this.#retireFailed(opening);
      throw err;
    } finally {
      // The old journal is retiring (or failed) from here on: changes that append nothing wait for it there.
      this.#rotations.replaced = undefined;
    }
    if (this.#failed) {
      // A failed journal is never synced again: the snapshot naming the new one ends the failure, if its copy of
      // memory was taken after it. Not a failure while the new one was created (the old journal's sync): the
      // changes held since the copy were dropped with it, and only a later copy holds them.
      if (this.#failure.error === opening.failure) this.#failure.recoverWith(next.gen);
      this.#retireFailed(opening);
      // Empty until the snapshot naming it is durable; removed by the next rotation if that snapshot is never written.
      this.#rotations.unnamed = next;
      return;
    }
    if (old === undefined) this.#release();
    else this.#syncs.retire(old, true, undefined);
  }

  /** The snapshot naming journal `gen` is durable: what was held back can go, and a failure before its copy is over. */
  snapshotDone(gen: number): void {
    this.snapshotInPlace(gen);
    // It holds every journal before `gen`, the switch to which was the last one.
    this.#size.absorbed();
    this.#failure.snapshotDone(gen);
    if (gen === this.#file?.gen) this.#release();
  }

  /**
   * A snapshot naming journal `gen` was renamed into place (durable or not: its directory sync may have failed): a
   * start may read it, so that journal is kept.
   */
  snapshotInPlace(gen: number): void {
    if (gen === this.#rotations.unnamed?.gen) this.#rotations.unnamed = undefined;
  }

  /** The journal a switch replaced, while the journal has failed: closed unsynced (and removed if never named). */
  #retireFailed({ old, leftover }: Opening): void {
    if (old === undefined) return;
    this.#syncs.retire(old, false, this.#failure.error);
    if (leftover) removeQuietly(this.#io, old.path);
  }

  /**
   * Stops appending: writes and syncs what is pending, then closes the file. The final snapshot that follows
   * holds everything; until it is on disk the journal does.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#syncs.stop();
    // Records held by a rotation go in once the older journals are synced: wait for that, or for a failure.
    if (this.#held && !this.#failed) await new Promise<void>((resolve) => { this.#onRelease.push(resolve); });
    const file = this.#file;
    if (file === undefined) return;
    if (!this.#failed && !this.#held) {
      this.#write();
      // A write that failed just now failed the journal: no sync will come (the final snapshot holds the records).
      if (!this.#failed && (file.unsynced || file.syncing)) {
        await new Promise<void>((resolve) => {
          file.waiters.push(() => { resolve(); });
          this.#syncs.sync(file);
        });
      }
    }
    // Failed, a sync of it may still be queued: its descriptor is closed when that sync completes. Not waited for: a
    // failed journal is not, and nothing it still syncs is acknowledged for it (journal-sync.ts).
    this.#syncs.close(file);
  }

  #release(): void {
    // Not before the new journal is whole on disk, nor while an older one may still lose its tail to a power cut.
    if (!this.#held || this.#syncs.retiring || this.#file?.ready !== true) return;
    this.#held = false;
    this.#write();
    for (const resolve of this.#onRelease.splice(0)) resolve();
  }

  /** Writes the turn's records with one write; loops on short writes. */
  #write(): void {
    const file = this.#file;
    if (this.#batch.bytes === 0 || this.#held || this.#failed || file === undefined) return;
    const { out, bytes, records, waiting } = this.#batch.take();
    try {
      appendRecords(this.#io, file, out, bytes);
    } catch (err) {
      this.#fail(file.path, err, waiting);
      return;
    }
    const grown = this.#size.appended(bytes, records);
    if (this.#mode === 'always') {
      for (const cb of waiting) file.waiters.push(cb);
      this.#syncs.sync(file, isLone(records, bytes));
    } else for (const cb of waiting) later(cb, null);
    if (grown) this.#hooks.grown();
  }

  /** @param inChange - found inside a change, where no user code may run: reported on the next turn. */
  #fail(path: string, cause: unknown, waiters: AnyCallback[], inChange = false): void {
    const { error, first } = this.#failure.fail(path, cause);
    // Nothing is held back for the new journal any more: the records held are dropped below, and so is every change
    // until a snapshot copies memory again (whose switch holds back anew). Left held, each later change was encoded
    // and counted pending, never to be written, until that snapshot.
    this.#held = false;
    for (const resolve of this.#onRelease.splice(0)) resolve();
    // Nothing written to a journal is trusted after a failure: every change not yet acknowledged gets the error.
    const all = [...waiters, ...this.#batch.drop(), ...(this.#file?.waiters.splice(0) ?? []), ...this.#syncs.abandonRetiring()];
    // 'everysec' changes never fail for the journal's sake: memory serves them and the 'error' event tells.
    for (const cb of all) later(cb, this.#mode === 'always' ? error : null);
    if (!first) return;
    if (inChange) setImmediate(() => { this.#hooks.failed(error); });
    else this.#hooks.failed(error);
  }
}

function noop(): void {
  // A change made without a callback still waits its turn.
}
