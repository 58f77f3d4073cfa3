/**
 * Appends changes to the journal between snapshots (format: journal-format.ts).
 *
 * The records of one event-loop turn are encoded into one buffer and written with one `write` at the end of the
 * turn (a `setImmediate` queued by the turn's first record, so it runs before the callbacks the store queued after
 * it). A synchronous write to the page cache costs about 4 µs here against about 45 µs of CPU for an asynchronous
 * one, and a process that dies after the write (kill -9, out of memory) loses nothing of it. Syncs (fdatasync) run
 * off the event loop:
 * - `everysec`: a timer syncs about every second when something was written; callbacks do not wait.
 * - `always`: callbacks wait for a sync that began after their record was written; the records written while a
 *   sync runs share the next one (group commit).
 *
 * Rotation at a snapshot (persistence.ts): a new journal is created and synced first, then, in one synchronous
 * step with the snapshot's copy of memory, appends switch to it. Its records are held back until the old journal's
 * last sync has completed (or the snapshot naming the new journal is on disk), so a power cut can never keep new
 * records while losing older ones: only the last journal holding records can have a torn tail.
 *
 * Failures: a write or sync that fails puts the journal in a failed state: the failed records' callbacks get the
 * error, the file is cut back to its last good length, and nothing more is written to it (a failed fsync is never
 * retried and trusted). Memory keeps serving; a snapshot that rotates to a fresh journal is the recovery.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { later, type AnyCallback } from '../store/callback.js';
import { FILE_MODE } from './atomic-writer.js';
import { encodeJournalRecord, recordBound, type JournalOp } from './journal-format.js';
import {
  closeQuietly, createJournal, JournalError, newFile, removeQuietly, syncDirectorySync, type JournalFile, type JournalIo,
} from './journal-file.js';
import { journalPath, type JournalTail } from './journal-reader.js';


export type JournalMode = 'everysec' | 'always';

const SYNC_EVERY_MS = 1000;

/** The `store.stats.persistence.journal` view. */
export interface JournalStats {
  mode: JournalMode;
  file: string;
  generation: number;
  /** Bytes and records appended since the last snapshot. */
  bytes: number;
  records: number;
  /** Records not yet written, or written and waiting for a sync in 'always' mode. */
  pending: number;
  /** When the last sync completed (ms since the epoch). */
  lastSyncAt: number | undefined;
  /** Syncs that took longer than a second, or found the previous one still running when due. */
  delayedSyncs: number;
  /** Whether a write or sync failed and no snapshot has recovered from it yet. */
  failed: boolean;
  lastError: string | undefined;
}

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
  /** `undefined` until the first change after a start that found no journal to continue. */
  #file: JournalFile | undefined;
  /** How a journal created at the first change starts its chain. */
  readonly #start: { gen: number; after: string };
  /** Older journals still being synced after a switch, oldest first: the current one's records wait for them all. */
  #retiring: JournalFile[] = [];
  #out = Buffer.allocUnsafe(64 * 1024);
  #outBytes = 0;
  #outRecords = 0;
  /** Callbacks of the records in #out ('always'). */
  #waiting: AnyCallback[] = [];
  #scheduled = false;
  /** Callbacks waiting on a sync that is running (taken out of their file's waiters when it began). */
  #inSync = 0;
  /** The records in #out while #held, kept whole in case a rotation must move them to the next journal. */
  #heldRecords: { op: JournalOp; id: string; expires: number; value: string }[] = [];
  /** Records for a new journal wait until the old one is synced or the snapshot naming the new one is durable. */
  #held = false;
  #failure: JournalError | undefined;
  /** The generation whose snapshot ends the failure: the first whose copy of memory was taken after it. */
  #recoverGen = Infinity;
  #bytes = 0;
  #records = 0;
  #limit: number;
  #lastSyncAt: number | undefined;
  #delayedSyncs = 0;
  readonly #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(mode: JournalMode, io: JournalIo, hooks: JournalHooks, saveFile: string, file: JournalFile | undefined,
    start: { gen: number; after: string }, limit: number) {
    this.#mode = mode;
    this.#io = io;
    this.#hooks = hooks;
    this.#saveFile = saveFile;
    this.#file = file;
    this.#start = start;
    this.#limit = limit;
    if (mode === 'everysec') {
      this.#timer = setInterval(() => {
        const current = this.#file;
        if (current?.syncing === true) this.#delayedSyncs++;
        else if (current?.unsynced === true) this.#sync(current);
      }, SYNC_EVERY_MS).unref();
    }
  }

  /**
   * Opens the journal to append to: the last one replayed, or else (at the first change) a new one continuing
   * `start.after` (`s:<sha256>` of the snapshot loaded, `s:-` for none). Synchronous: it runs in the store's constructor.
   * @param bytes - bytes already appended since the snapshot (the journals replayed).
   * @param limit - journal bytes that call for a snapshot.
   */
  static open(mode: JournalMode, io: JournalIo, hooks: JournalHooks, saveFile: string, tail: JournalTail | undefined,
    start: { gen: number; after: string }, bytes: number, limit: number): JournalWriter {
    const file = tail === undefined ? undefined
      : newFile(io.openSync(tail.path, 'a', FILE_MODE), tail.gen, tail.token, tail.path, tail.size, tail.seq);
    const writer = new JournalWriter(mode, io, hooks, saveFile, file, start, limit);
    writer.#bytes = bytes;
    return writer;
  }

  /**
   * The journal to append to, created (synced, with its directory) at the first change after a start that found
   * none: a store nobody writes to leaves no file behind. Once per start, about a millisecond.
   */
  #current(): JournalFile | undefined {
    if (this.#file !== undefined) return this.#file;
    try {
      const file = createJournal(this.#io, this.#saveFile, this.#start.gen, this.#start.after, this.#hooks.clock());
      this.#file = file;
      this.#io.fdatasyncSync(file.fd);
      syncDirectorySync(this.#io, dirname(this.#saveFile));
      return file;
    } catch (err) {
      this.#fail(this.#file?.path ?? journalPath(this.#saveFile, this.#start.gen), err, []);
      return undefined;
    }
  }

  /** Journal bytes that call for a snapshot; follows the size of the last snapshot written. */
  set limit(bytes: number) {
    this.#limit = bytes;
  }

  get stats(): JournalStats {
    return {
      mode: this.#mode,
      file: this.#file?.path ?? journalPath(this.#saveFile, this.#start.gen),
      generation: this.#file?.gen ?? this.#start.gen,
      bytes: this.#bytes,
      records: this.#records,
      pending: this.#outRecords + this.#inSync + (this.#file?.waiters.length ?? 0) + this.#retiring.reduce((n, f) => n + f.waiters.length, 0),
      lastSyncAt: this.#lastSyncAt,
      delayedSyncs: this.#delayedSyncs,
      failed: this.#failure !== undefined,
      lastError: this.#failure?.message,
    };
  }

  /** The error every change gets in 'always' mode until the store has recovered; `undefined` when healthy. */
  get refusal(): JournalError | undefined {
    return this.#mode === 'always' ? this.#failure : undefined;
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Whether a journal file exists (one is created at the first change after a start that found none). */
  get started(): boolean {
    return this.#file !== undefined;
  }

  /** Appends a change; it is written at the end of this event-loop turn. */
  append(op: JournalOp, id: string, expires: number, value: string): void {
    // Failed: dropped, as the snapshot that recovers copies memory after it; held: kept for the new journal.
    if (this.#closed || (this.#failure !== undefined && !this.#held)) return;
    const file = this.#current();
    if (file === undefined) return;
    this.#encode(file, op, id, expires, value);
    if (this.#held) this.#heldRecords.push({ op, id, expires, value });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#write();
      });
    }
  }

  #encode(file: JournalFile, op: JournalOp, id: string, expires: number, value: string): void {
    const bound = recordBound(id, value);
    if (this.#outBytes + bound > this.#out.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#out.length * 2, this.#outBytes + bound));
      this.#out.copy(bigger, 0, 0, this.#outBytes);
      this.#out = bigger;
    }
    this.#outBytes = encodeJournalRecord(this.#out, this.#outBytes, file.salt, file.seq++, op, id, expires, value);
    this.#outRecords++;
  }

  /**
   * Calls back once every change appended so far is durable ('always'), with a {@link JournalError} if it cannot
   * be. In 'everysec' mode, or with nothing pending, it calls back on the next turn.
   */
  afterDurable(callback: AnyCallback | undefined): void {
    const cb = callback ?? noop;
    if (this.#mode !== 'always') {
      // 'everysec' promises the OS has the change before its callback: a kill -9 then loses nothing acknowledged.
      // A change held back during a rotation waits for its write (a few syncs, once per snapshot); not while the
      // journal has failed: memory serves it, and the recovery snapshot will hold it.
      if (this.#held && this.#failure === undefined && this.#outRecords > 0) this.#waiting.push(cb);
      else later(cb, null);
      return;
    }
    // The change was dropped by a failure in its own append (the journal could not even be created).
    if (this.#failure !== undefined) return later(cb, this.#failure);
    if (this.#outRecords > 0) {
      this.#waiting.push(cb);
      return;
    }
    const file = this.#retiring.at(-1) ?? this.#file;
    if (file === undefined || (!file.unsynced && !file.syncing)) return later(cb, null);
    file.waiters.push(cb);
    this.#sync(file);
  }

  /**
   * Switches appends to a new journal, in the same synchronous step as the snapshot's copy of memory, so every
   * change is in the copy or in the new journal. Its records are held back until {@link openNext} has created it
   * and the old journal's last sync has completed.
   * @returns the journal the snapshot hands over to.
   */
  rotate(): { gen: number; token: string } {
    // What this turn appended belongs before the copy: into the old journal, now.
    this.#write();
    const old = this.#file;
    const gen = Math.max(old?.gen ?? this.#start.gen - 1, this.#nextGen) + 1;
    this.#nextGen = gen;
    const token = randomBytes(8).toString('hex');
    // A snapshot names the next journal by generation and token; `after` matters only to a snapshot without that.
    const after = old === undefined ? this.#start.after : `j:${old.token}`;
    const next = newFile(-1, gen, token, journalPath(this.#saveFile, gen), 0, 1);
    // Still held (the last snapshot failed before the old journal's final sync): the records waiting were encoded
    // for a journal that will never receive them. They go first in the new one, re-encoded with its salt and seq.
    const carried = this.#held ? this.#heldRecords.splice(0) : [];
    this.#outBytes = 0;
    this.#outRecords = 0;
    for (const r of carried) this.#encode(next, r.op, r.id, r.expires, r.value);
    this.#file = next;
    this.#bytes = 0;
    this.#records = 0;
    this.#held = true;
    this.#opening = { next, old, after };
    return { gen, token };
  }

  #nextGen = 0;
  #opening: { next: JournalFile; old: JournalFile | undefined; after: string } | undefined;

  /**
   * Creates the journal {@link rotate} switched to: header written and synced, directory synced, before the
   * snapshot naming it is written. Then retires the old journal.
   * @throws the fs error; the journal is then failed (a snapshot recovers it).
   */
  async openNext(syncDirectory: () => Promise<void>): Promise<void> {
    const opening = this.#opening;
    if (opening === undefined) return;
    this.#opening = undefined;
    const { next, old, after } = opening;
    try {
      const created = createJournal(this.#io, this.#saveFile, next.gen, after, this.#hooks.clock(), next.token);
      next.fd = created.fd;
      next.size = created.size;
      try {
        await new Promise<void>((resolve, reject) => {
          this.#io.fdatasync(next.fd, (err) => { if (err) reject(err); else resolve(); });
        });
        await syncDirectory();
        next.ready = true;
      } catch (err) {
        closeQuietly(this.#io, next.fd);
        next.fd = -1;
        removeQuietly(this.#io, next.path);
        throw err;
      }
    } catch (err) {
      // The records held for it have nowhere to go: failed, until a snapshot copies memory again.
      this.#fail(next.path, err, []);
      if (old !== undefined) this.#retire(old, false);
      throw err;
    }
    if (this.#failure !== undefined) {
      // A failed journal is never synced again: the snapshot naming the new one ends the failure.
      this.#recoverGen = Math.min(this.#recoverGen, next.gen);
      if (old !== undefined) this.#retire(old, false);
      return;
    }
    if (old === undefined) this.#release();
    else this.#retire(old, true);
  }

  /** The snapshot naming journal `gen` is durable: what was held back can go, and a failure before its copy is over. */
  snapshotDone(gen: number): void {
    if (this.#failure !== undefined && gen >= this.#recoverGen) {
      this.#failure = undefined;
      this.#recoverGen = Infinity;
    }
    if (gen === this.#file?.gen) this.#release();
  }

  /**
   * Stops appending: writes and syncs what is pending, then closes the file. The final snapshot that follows
   * holds everything; until it is on disk the journal does.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  #closing: Promise<void> | undefined;

  async #close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    // Records held by a rotation go in once the older journals are synced: wait for that, or for a failure.
    if (this.#held && this.#failure === undefined) await new Promise<void>((resolve) => { this.#onRelease.push(resolve); });
    const file = this.#file;
    if (file === undefined) return;
    if (this.#failure === undefined && !this.#held) {
      this.#write();
      if (file.unsynced || file.syncing) {
        await new Promise<void>((resolve) => {
          file.waiters.push(() => { resolve(); });
          this.#sync(file);
        });
      }
    }
    closeQuietly(this.#io, file.fd);
  }

  /** Syncs `old` until nothing written to it is unsynced, closes it, then lets the new journal's records go. */
  #retire(old: JournalFile, sync: boolean): void {
    if (!sync) {
      for (const cb of old.waiters.splice(0)) later(cb, this.#failure);
      closeQuietly(this.#io, old.fd);
      return;
    }
    old.retiring = true;
    this.#retiring.push(old);
    if (old.syncing) return; // its completion sees `retiring`
    old.unsynced = true; // one sync after the switch, whatever ran before
    this.#sync(old);
  }

  #retired(old: JournalFile): void {
    this.#retiring = this.#retiring.filter((f) => f !== old);
    closeQuietly(this.#io, old.fd);
    if (this.#failure === undefined) this.#release();
  }

  #release(): void {
    // Not before the new journal is whole on disk, nor while an older one may still lose its tail to a power cut.
    if (!this.#held || this.#retiring.length > 0 || this.#file?.ready !== true) return;
    this.#held = false;
    this.#write();
    for (const resolve of this.#onRelease.splice(0)) resolve();
  }

  /** close() waiting for held records to be released. */
  #onRelease: (() => void)[] = [];

  /** Writes the turn's records with one write; loops on short writes. */
  #write(): void {
    const file = this.#file;
    if (this.#outBytes === 0 || this.#held || this.#failure !== undefined || file === undefined) return;
    const bytes = this.#outBytes;
    const records = this.#outRecords;
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#outBytes = 0;
    this.#outRecords = 0;
    this.#heldRecords = [];
    try {
      for (let done = 0; done < bytes;) {
        const n = this.#io.writeSync(file.fd, this.#out, done, bytes - done);
        if (n <= 0) throw new Error('write made no progress');
        done += n;
      }
    } catch (err) {
      try {
        // Cut a partial record, as Redis does, so the next start does not find garbage before good records.
        this.#io.ftruncateSync(file.fd, file.size);
      } catch {
        // Left torn: a start drops a torn tail of the last journal.
      }
      this.#fail(file.path, err, waiting);
      return;
    }
    file.size += bytes;
    this.#bytes += bytes;
    this.#records += records;
    file.unsynced = true;
    if (this.#mode === 'always') {
      for (const cb of waiting) file.waiters.push(cb);
      this.#sync(file);
    } else for (const cb of waiting) later(cb, null);
    if (this.#bytes >= this.#limit) this.#hooks.grown();
  }

  #sync(file: JournalFile): void {
    if (file.syncing || this.#failure !== undefined) return;
    if (!file.unsynced) {
      for (const cb of file.waiters.splice(0)) later(cb, null);
      if (file.retiring) this.#retired(file);
      return;
    }
    file.syncing = true;
    file.unsynced = false;
    const waiters = file.waiters.splice(0);
    this.#inSync += waiters.length;
    const started = performance.now();
    this.#io.fdatasync(file.fd, (err) => {
      file.syncing = false;
      this.#inSync -= waiters.length;
      if (err) {
        this.#fail(file.path, err, waiters);
        return;
      }
      if (performance.now() - started > SYNC_EVERY_MS) this.#delayedSyncs++;
      this.#lastSyncAt = this.#hooks.clock();
      for (const cb of waiters) later(cb, null);
      if (file.waiters.length > 0 || file.retiring || (file.unsynced && this.#mode === 'always')) this.#sync(file);
    });
  }

  #fail(path: string, cause: unknown, waiters: AnyCallback[]): void {
    const error = new JournalError(path, cause);
    for (const resolve of this.#onRelease.splice(0)) resolve();
    const first = this.#failure === undefined;
    this.#failure = error;
    this.#recoverGen = Infinity;
    // Nothing written to a journal is trusted after a failure: every change not yet acknowledged gets the error.
    const all = [...waiters, ...this.#waiting.splice(0), ...(this.#file?.waiters.splice(0) ?? []), ...this.#retiring.flatMap((f) => f.waiters.splice(0))];
    // 'everysec' changes never fail for the journal's sake: memory serves them and the 'error' event tells.
    for (const cb of all) later(cb, this.#mode === 'always' ? error : null);
    this.#outBytes = 0;
    this.#outRecords = 0;
    this.#heldRecords = [];
    for (const f of this.#retiring.splice(0)) {
      closeQuietly(this.#io, f.fd);
    }
    if (first) this.#hooks.failed(error);
  }
}

function noop(): void {
  // A change made without a callback still waits its turn.
}
