/**
 * When and how the store's sessions reach disk: load at start (recover.ts), changes appended to the journal as
 * they happen (journal-writer.ts), a snapshot every `savePeriod` when something changed and whenever the journal
 * outgrows the last snapshot, `flush()` on demand, a final snapshot on `close()`. One snapshot at a time; calls
 * made during one coalesce into one more after it. A failed snapshot keeps everything in memory, leaves the old
 * file intact, and is retried at the next period; a failed journal is recovered by a snapshot retried every second.
 *
 * A snapshot with the journal on (the crash points are listed in the README, "What a crash loses"):
 * 1. in one synchronous step: appends switch to the next journal and memory is copied (the next journal's records are
 *    held back until it is created and the old one's last sync completes);
 * 2. the next journal is created, synced and its directory synced;
 * 3. the snapshot naming the new journal is written (temp file, fsync, rename, directory fsync);
 * 4. only then are older journals removed.
 */
import * as fsPromises from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory, writeFileAtomic, DirectorySyncError } from './atomic-writer.js';
import { log } from '../debug.js';
import type { EntryCopy } from '../store/lru-entries.js';
import type { FileLock } from './file-lock.js';
import type { FsPromises } from '../option-types.js';
import { listJournals } from './journal-reader.js';
import { journalIo, removeQuietly, type JournalIo } from './journal-file.js';
import { JournalWriter, type JournalMode } from './journal-writer.js';
import { startFiles } from './persistence-load.js';
import { SnapshotTriggers } from './persistence-triggers.js';
import type { RecoverySinks } from './recover.js';
import { saveError, writeSnapshot } from './snapshot-writer.js';
import type { JournalOp } from './journal-format.js';
import { emptyLoad, saveInfo, type LoadInfo, type PersistenceStats, type SaveInfo } from './persistence-stats.js';

/** A journal smaller than this never calls for a snapshot by its size (Redis: auto-aof-rewrite-min-size). */
const JOURNAL_MIN_BYTES = 8 * 1024 * 1024;

/** What the persistence needs from the store. */
export interface SnapshotSource {
  /** A counter that increases on every change to the sessions. */
  changes(): number;
  /** A point-in-time copy of the sessions live at `now`, least recently used first (no user code runs). */
  copy(now: number): EntryCopy;
  readonly clock: () => number;
}

export interface PersistenceOptions {
  file: string;
  periodMs: number;
  fs: FsPromises | undefined;
  onDamagedFile: 'error' | 'move-aside';
  journal: JournalMode | false;
}

/** Callbacks into the store for events and failures nobody called for. */
export interface PersistenceEvents {
  emit(event: 'load' | 'save', info: unknown): void;
  report(err: Error): void;
}

export class Persistence {
  /** The saveFile as given: what messages and stats name. */
  readonly #file: string;
  /** The saveFile in the directory its lock was taken in: every file is read and written through it. */
  #path: string;
  readonly #fs: FsPromises;
  readonly #io: JournalIo;
  readonly #options: PersistenceOptions;
  readonly #source: SnapshotSource;
  readonly #events: PersistenceEvents;
  #lock: FileLock | undefined;
  #journal: JournalWriter | undefined;
  readonly #triggers: SnapshotTriggers;
  #current: Promise<void> | undefined;
  /**
   * A save is in its synchronous start (copy, journal switch), before it is {@link #current}: the switch's write can
   * ask for a save (the size limit, or an 'error' listener calling flush()), which must come after this one.
   */
  #starting = false;
  #queued: Promise<void> | undefined;
  #savedChanges = 0;
  #lastSave: SaveInfo | undefined;
  #lastSuccessAt: number | undefined;
  #lastSnapshotBytes = 0;
  #load: LoadInfo | undefined;
  #closing: Promise<void> | undefined;
  /** Whether the snapshot on disk needs a journal beside it (it names one). */
  #pointerOnDisk = false;
  /** The save at close: no new journal, a snapshot that stands alone. */
  #final = false;
  /** The highest journal generation found at start: a snapshot that stands alone holds it. */
  #loadedGen = 0;

  constructor(options: PersistenceOptions, source: SnapshotSource, events: PersistenceEvents) {
    this.#file = options.file;
    this.#path = options.file;
    this.#fs = options.fs ?? fsPromises;
    this.#io = journalIo(options.fs as Partial<JournalIo> | undefined);
    this.#triggers = new SnapshotTriggers(options.periodMs, {
      busy: () => this.#current !== undefined || this.#starting,
      dirty: () => this.dirty,
      journalFailed: () => this.#journal?.failed === true,
      flush: () => this.flush(),
      report: (err) => { events.report(err); },
    });
    this.#options = options;
    this.#source = source;
    this.#events = events;
  }

  /**
   * Takes the lock, loads the snapshot and replays the journal synchronously, removes temp files a killed process
   * left, and opens the journal for appends.
   * @throws on a damaged file (unless moved aside), a held lock, or an unusable path; the files are left untouched.
   */
  open(sinks: RecoverySinks): void {
    const { lock, load } = startFiles(this.#file, sinks, { onDamaged: this.#options.onDamagedFile, now: this.#source.clock() },
      ({ snapshot, journal }, locked) => {
        this.#path = locked;
        // A 1.x file, or changes replayed from a journal, are written into a snapshot at the next save. The records
        // replayed are changes the snapshot does not hold: changesSinceSave counts them (it said 1 for any number).
        const absorb = snapshot.format === '1.x' || journal.records > 0 || (journal.files > 0 && this.#options.journal === false);
        this.#savedChanges = this.#source.changes() - Math.max(journal.records, absorb ? 1 : 0);
        this.#lastSnapshotBytes = snapshot.bytes;
        this.#pointerOnDisk = snapshot.journal !== undefined;
        this.#loadedGen = journal.maxGen;
        if (this.#options.journal !== false) {
          this.#journal = new JournalWriter(this.#options.journal, this.#io, {
            grown: () => { if (this.#closing === undefined) this.#triggers.grown(this.#journalLimit()); },
            failed: (err) => { this.#triggers.journalFailed(err); },
            clock: this.#source.clock,
          }, locked, journal.tail, { gen: journal.maxGen + 1, after: `s:${snapshot.sha256}` }, journal, this.#journalLimit());
        }
        for (const stale of journal.stale) removeQuietly(this.#io, stale);
      });
    this.#lock = lock;
    this.#load = load;
  }

  /** Records how many sessions are live after the load, and tells listeners. */
  loaded(sessions: number): void {
    if (this.#load === undefined) return;
    this.#load.sessions = sessions;
    const info = { ...this.#load };
    process.nextTick(() => {
      this.#events.emit('load', info);
    });
  }

  /** Appends a change to the journal (nothing with `journal: false`). */
  record(op: JournalOp, id: string, expires: number, value: string): void {
    this.#journal?.append(op, id, expires, value);
  }

  /** Calls back when the changes made so far are durable ('always'), or on the next turn. */
  afterDurable(callback: ((err?: unknown) => void) | undefined): boolean {
    if (this.#journal === undefined) return false;
    this.#journal.afterDurable(callback);
    return true;
  }

  /** The error changes get while an 'always' journal has failed and not recovered yet. */
  get refusal(): Error | undefined {
    return this.#journal?.refusal;
  }

  get dirty(): boolean {
    return this.#source.changes() !== this.#savedChanges;
  }

  get stats(): PersistenceStats {
    return {
      file: this.#file,
      changesSinceSave: this.#source.changes() - this.#savedChanges,
      saving: this.#current !== undefined,
      lastSave: this.#lastSave === undefined ? undefined : { ...this.#lastSave },
      lastSuccessAt: this.#lastSuccessAt,
      compactions: this.#triggers.compactions,
      load: this.#load === undefined ? emptyLoad() : { ...this.#load },
      journal: this.#journal?.stats,
    };
  }

  startTimer(): void {
    if (this.#closing === undefined && this.#lock !== undefined) this.#triggers.startPeriod();
  }

  stopTimer(): void {
    this.#triggers.stopPeriod();
  }

  get timer(): NodeJS.Timeout | undefined {
    return this.#triggers.timer;
  }

  /** Saves now if anything changed. Concurrent calls share the running save plus at most one more after it. */
  flush(): Promise<void> {
    // Called inside a save's start: it is the current save once its start returns, and this one queues after it.
    if (this.#starting) return Promise.resolve().then(() => this.flush());
    if (this.#current === undefined) return this.#startSave();
    this.#queued ??= this.#current.then(noop, noop).then(() => {
      this.#queued = undefined;
      // Not #startSave(): code that ran after the last save settled may have started another one since.
      return this.flush();
    });
    return this.#queued;
  }

  #startSave(): Promise<void> {
    // Cleared in a callback, which always runs after the assignment, even when there is nothing to save.
    this.#starting = true;
    const over = (): void => {
      if (this.#current === run) this.#current = undefined;
    };
    const run: Promise<void> = this.#save().then((saved) => {
      over();
      // Told once the save is over: a listener reading the stats saw `saving: true` for the save it was told of.
      if (saved !== undefined) this.#events.emit('save', saved);
    }, (err: unknown) => {
      over();
      throw err;
    });
    this.#starting = false;
    this.#current = run;
    return run;
  }

  /**
   * Stops the timers, writes and syncs what the journal holds, saves a final snapshot that stands alone (no
   * journal: the file can be copied by itself), removes the journals and releases the lock.
   * Rejects (keeping the lock and the journals) if that save fails.
   */
  close(): Promise<void> {
    this.stopTimer();
    // Every timer, the journal's recovery too: once closed, only a close() called again saves.
    this.#triggers.stop();
    this.#closing ??= (async () => {
      // A rotation in flight owns the new journal's file until its snapshot is written: closing it under the
      // rotation's sync failed that save (EBADF) and with it close(). Never in close()'s own call: #closing is set
      // by then (the journal's close writes what is pending, and passing the size limit must not start a
      // compaction), and a save whose start called close() (an 'error' listener) is the current one.
      await Promise.resolve();
      // A save queued behind the running one starts as that one settles, and owns its rotation just the same.
      while (this.#current !== undefined || this.#queued !== undefined) await (this.#queued ?? this.#current)?.catch(noop);
      await this.#journal?.close();
      this.#final = true;
      await this.flush();
      this.#triggers.stop();
      this.#lock?.release();
      this.#lock = undefined;
    })().catch((err: unknown) => {
      this.#closing = undefined; // a later close() retries the final save
      throw err;
    });
    return this.#closing;
  }

  #journalLimit(): number {
    return Math.max(JOURNAL_MIN_BYTES, this.#lastSnapshotBytes);
  }

  /** Whether a snapshot is due: changes, a failed journal to recover, or at close a journal to absorb. */
  #due(): boolean {
    const journal = this.#journal;
    if (this.dirty || journal?.failed === true) return true;
    return this.#final && journal !== undefined && (this.#pointerOnDisk || journal.started);
  }

  /** @returns what the 'save' event tells, `undefined` when there was nothing to save. */
  async #save(): Promise<SaveInfo | undefined> {
    if (this.#lock === undefined || !this.#due()) return undefined;
    const started = performance.now();
    let sessions = 0;
    let next: { gen: number; token: string } | undefined;
    try {
      this.#lock.verify(this.#file);
      const journal = this.#final ? undefined : this.#journal;
      // One synchronous step: every change is in this copy or in the next journal. The switch first: its write of
      // the turn's records into the old journal can fail it, and an 'error' listener called there can make changes
      // the failed journal drops; taken after, the copy holds them, and the snapshot ends that failure rightly.
      // Nothing between the switch and openNext() may throw (the clock is read before): the rotation would be left
      // half done, its records held back for good.
      const writtenAt = this.#source.clock();
      next = journal?.rotate();
      const changes = this.#source.changes();
      const copy = this.#source.copy(writtenAt);
      sessions = copy.ids.length;
      await journal?.openNext(() => syncDirectory(this.#fs, dirname(this.#path)));
      // Without a next journal, the snapshot names the last journal it holds: until their removal is on disk,
      // those journals are still beside it, and a start must not take them for another copy's.
      const absorbed = next === undefined ? Math.max(this.#loadedGen, this.#journal?.started === true ? this.#journal.stats.generation : 0) : 0;
      const bytes = await writeFileAtomic(this.#fs, this.#path, (write) => writeSnapshot(copy, writtenAt, next, write, absorbed));
      this.#savedChanges = changes;
      this.#lastSnapshotBytes = bytes;
      if (journal !== undefined) journal.limit = this.#journalLimit();
      this.#pointerOnDisk = next !== undefined;
      if (next !== undefined) journal?.snapshotDone(next.gen);
      this.#removeJournalsBefore(next?.gen ?? Infinity);
      this.#lastSave = saveInfo(started, this.#source.clock(), bytes, sessions, undefined);
    } catch (err) {
      const error = saveError(this.#file, err);
      this.#lastSave = saveInfo(started, this.#source.clock(), 0, sessions, error);
      log('save failed after %d ms: %s', Math.round(this.#lastSave.durationMs), error.message);
      // A snapshot renamed into place without a durable directory may not survive a power cut: its older
      // journals stay until a snapshot is durable, and so does the one it names (a start may read it).
      if (err instanceof DirectorySyncError) {
        if (next !== undefined) this.#journal?.snapshotInPlace(next.gen);
        log('older journals kept');
      }
      throw error;
    }
    this.#lastSuccessAt = this.#lastSave.at;
    log('saved %d sessions, %d bytes in %d ms', sessions, this.#lastSave.bytes, Math.round(this.#lastSave.durationMs));
    return { ...this.#lastSave };
  }

  /**
   * Journals a durable snapshot has absorbed. Best effort: the snapshot is saved whatever this does, and journals
   * left here are what a crash before their removal leaves, which the next save or start removes.
   */
  #removeJournalsBefore(gen: number): void {
    try {
      for (const f of listJournals(this.#path)) if (f.gen < gen && !f.foreign) removeQuietly(this.#io, f.path);
    } catch (err) {
      log('absorbed journals left for the next save to remove: %s', err instanceof Error ? err.message : String(err));
    }
  }
}

function noop(): void {
  // Only the order matters: the queued save runs after the current one, whatever its outcome.
}
