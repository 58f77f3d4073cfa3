/**
 * When and how the store's sessions reach the snapshot file: load at start, save every `savePeriod` when
 * something changed, `flush()` on demand, a final save on `close()`. One save at a time; calls made during
 * a save coalesce into one more save after it. A failed save keeps everything in memory, leaves the old
 * file intact, and is retried at the next period.
 */
import { Buffer } from 'node:buffer';
import * as fsPromises from 'node:fs/promises';
import { existsSync, lstatSync, renameSync } from 'node:fs';
import { DirectorySyncError, removeStaleTempFiles, writeFileAtomic, type WriteChunk } from './atomic-writer.js';
import { log } from '../debug.js';
import { wrapFsError } from './file-errors.js';
import type { EntryCopy } from '../store/lru-entries.js';
import { FileLock } from './file-lock.js';
import type { FsPromises } from '../options.js';
import { encodeHeader, encodeRecord, encodeTrailer, newChecksum, SnapshotError, type RecordSink } from './snapshot-format.js';
import type { LegacyConverter } from './legacy-file.js';
import { loadSnapshotFile, type LoadResult } from './snapshot-loader.js';

/** Records per chunk: about 400 KB of sessions, a few ms of work between two yields to the event loop. */
const RECORDS_PER_CHUNK = 1000;

/** What the persistence needs from the store. */
export interface SnapshotSource {
  /** A counter that increases on every change to the sessions. */
  changes(): number;
  /** A point-in-time copy of the live sessions, least recently used first. */
  copy(): EntryCopy;
  readonly clock: () => number;
}

/** Outcome of the last save, in {@link PersistenceStats}. */
export interface SaveInfo {
  /** When it finished (ms since the epoch). */
  at: number;
  durationMs: number;
  bytes: number;
  sessions: number;
  outcome: 'ok' | 'error';
  error: string | undefined;
}

/** The `store.stats` view of the persistence. */
export interface PersistenceStats {
  file: string;
  /** Changes since the last successful save (0: the file holds what memory holds). */
  changesSinceSave: number;
  saving: boolean;
  lastSave: SaveInfo | undefined;
  lastSuccessAt: number | undefined;
  load: LoadResult & { durationMs: number; sessions: number; movedAside: string | undefined };
}

export interface PersistenceOptions {
  file: string;
  periodMs: number;
  fs: FsPromises | undefined;
  onDamagedFile: 'error' | 'move-aside';
}

/** Callbacks into the store for events and failures nobody called for. */
export interface PersistenceEvents {
  emit(event: 'load' | 'save', info: unknown): void;
  report(err: Error): void;
}

export class Persistence {
  readonly #file: string;
  readonly #fs: FsPromises;
  readonly #periodMs: number;
  readonly #onDamaged: 'error' | 'move-aside';
  readonly #source: SnapshotSource;
  readonly #events: PersistenceEvents;
  #lock: FileLock | undefined;
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #savedChanges = 0;
  #lastSave: SaveInfo | undefined;
  #lastSuccessAt: number | undefined;
  #load: PersistenceStats['load'] | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PersistenceOptions, source: SnapshotSource, events: PersistenceEvents) {
    this.#file = options.file;
    this.#fs = options.fs ?? fsPromises;
    this.#periodMs = options.periodMs;
    this.#onDamaged = options.onDamagedFile;
    this.#source = source;
    this.#events = events;
  }

  /**
   * Takes the lock, removes temp files a killed process left, and loads the file synchronously.
   * @throws on a damaged file (unless moved aside), a held lock, or an unusable path; the file is left untouched.
   */
  open(insert: RecordSink, fromLegacy: LegacyConverter, reset: () => void): void {
    const started = performance.now();
    refuseSymlink(this.#file);
    this.#lock = FileLock.acquire(this.#file);
    try {
      const removed = removeStaleTempFiles(this.#file);
      if (removed > 0) log('removed %d temp files left by an interrupted save', removed);
      let movedAside: string | undefined;
      let result: LoadResult;
      try {
        result = loadSnapshotFile(this.#file, insert, fromLegacy);
      } catch (err) {
        reset();
        if (!(err instanceof SnapshotError) || this.#onDamaged !== 'move-aside') throw err;
        movedAside = asideName(this.#file, this.#source.clock());
        renameSync(this.#file, movedAside);
        process.emitWarning(`${err.message}. onDamagedFile is "move-aside": moved it to "${movedAside}" and started empty`,
          'MemFileStoreWarning');
        result = { format: 'none', records: 0, bytes: 0, writtenAt: undefined };
      }
      // A 1.x file is rewritten in our format at the first save; our own file is current as loaded.
      this.#savedChanges = this.#source.changes() - (result.format === '1.x' ? 1 : 0);
      this.#load = { ...result, durationMs: performance.now() - started, sessions: 0, movedAside };
      log('loaded %s snapshot: %d records, %d bytes in %d ms', result.format, result.records, result.bytes,
        Math.round(this.#load.durationMs));
    } catch (err) {
      this.#lock.release();
      this.#lock = undefined;
      throw err;
    }
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
      load: this.#load === undefined ? emptyLoad() : { ...this.#load },
    };
  }

  startTimer(): void {
    if (this.#periodMs === 0 || this.#closing !== undefined || this.#lock === undefined) return;
    clearInterval(this.#timer);
    this.#timer = setInterval(() => {
      if (!this.dirty || this.#current !== undefined) return;
      this.flush().catch((err: unknown) => {
        this.#events.report(err as Error);
      });
    }, this.#periodMs).unref();
  }

  stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  get timer(): NodeJS.Timeout | undefined {
    return this.#timer;
  }

  /** Saves now if anything changed. Concurrent calls share the running save plus at most one more after it. */
  flush(): Promise<void> {
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
    const run: Promise<void> = this.#save().finally(() => {
      if (this.#current === run) this.#current = undefined;
    });
    this.#current = run;
    return run;
  }

  /** Stops the timer, saves a final time and releases the lock. Rejects (keeping the lock) if that save fails. */
  close(): Promise<void> {
    this.stopTimer();
    this.#closing ??= this.flush().then(() => {
      this.#lock?.release();
      this.#lock = undefined;
    }, (err: unknown) => {
      this.#closing = undefined; // a later close() retries the final save
      throw err;
    });
    return this.#closing;
  }

  async #save(): Promise<void> {
    if (this.#lock === undefined || !this.dirty) return;
    const started = performance.now();
    const changes = this.#source.changes();
    const copy = this.#source.copy();
    const writtenAt = this.#source.clock();
    let bytes: number;
    try {
      this.#lock.verify(this.#file);
      bytes = await writeFileAtomic(this.#fs, this.#file, (write) => writeSnapshot(copy, writtenAt, write));
    } catch (err) {
      const error = saveError(this.#file, err);
      this.#lastSave = saveInfo(started, this.#source.clock(), 0, copy.ids.length, error);
      log('save failed after %d ms: %s', Math.round(this.#lastSave.durationMs), error.message);
      throw error;
    }
    this.#savedChanges = changes;
    this.#lastSave = saveInfo(started, this.#source.clock(), bytes, copy.ids.length, undefined);
    this.#lastSuccessAt = this.#lastSave.at;
    log('saved %d sessions, %d bytes in %d ms', copy.ids.length, bytes, Math.round(this.#lastSave.durationMs));
    this.#events.emit('save', { ...this.#lastSave });
  }
}

/** Streams the snapshot in chunks, yielding to the event loop at each write. Also used by the CLI's import. */
export async function writeSnapshot(copy: EntryCopy, writtenAt: number, write: WriteChunk): Promise<void> {
  const checksum = newChecksum();
  const emit = async (text: string): Promise<void> => {
    const chunk = Buffer.from(text);
    checksum.update(chunk);
    await write(chunk);
  };
  await emit(encodeHeader(writtenAt));
  const { ids, values, expires } = copy;
  for (let start = 0; start < ids.length; start += RECORDS_PER_CHUNK) {
    const end = Math.min(ids.length, start + RECORDS_PER_CHUNK);
    let text = '';
    for (let i = start; i < end; i++) text += encodeRecord(ids[i] as string, expires[i] as number, values[i] as string);
    await emit(text);
  }
  await write(Buffer.from(encodeTrailer(ids.length, checksum.digest('hex'))));
}

/** Names the file in a save failure, and says what is on disk now. */
function saveError(file: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const state = err instanceof DirectorySyncError
    ? 'the new snapshot is in place, but its directory could not be synced, so a power loss may bring back the previous one'
    : 'the previous snapshot is intact';
  return wrapFsError(`express-memfilestore: could not save "${file}" (${state}): ${message}`, err);
}

function saveInfo(started: number, now: number, bytes: number, sessions: number, error: Error | undefined): SaveInfo {
  return {
    at: now,
    durationMs: performance.now() - started,
    bytes,
    sessions,
    outcome: error === undefined ? 'ok' : 'error',
    error: error?.message,
  };
}

function emptyLoad(): PersistenceStats['load'] {
  return { format: 'none', records: 0, bytes: 0, writtenAt: undefined, durationMs: 0, sessions: 0, movedAside: undefined };
}

/**
 * A symlink as saveFile would be replaced by a regular file at the first save (rename does not follow it),
 * and could point us at a file we must not overwrite: refuse it plainly.
 */
function refuseSymlink(file: string): void {
  try {
    if (lstatSync(file).isSymbolicLink()) {
      throw new Error(`express-memfilestore: saveFile "${file}" is a symbolic link; point saveFile at the real file`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** `<file>.corrupt-<timestamp>`, never an existing file: a second damaged file in the same ms gets `-2`. */
function asideName(file: string, now: number): string {
  const base = `${file}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  let name = base;
  for (let n = 2; existsSync(name); n++) name = `${base}-${n}`;
  return name;
}

function noop(): void {
  // Only the order matters: the queued save runs after the current one, whatever its outcome.
}
