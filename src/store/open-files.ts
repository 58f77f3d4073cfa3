/**
 * Connects a store to its files at start: builds the persistence (files/persistence.ts) and hands it the sinks
 * that put what the snapshot and the journals hold into the cache. Synchronous: it runs in the constructor.
 */
import type { LRUCache } from 'lru-cache';
import { JournalReplay } from '../files/journal-replay.js';
import { legacyConverter } from '../files/legacy-file.js';
import { Persistence, type PersistenceEvents } from '../files/persistence.js';
import type { SnapshotRecord } from '../files/snapshot-format.js';
import type { ResolvedOptions } from '../option-types.js';
import { entrySize, isExpired, putEntry, type EntryCopy, type LruInternals } from './lru-entries.js';
import { defaultLifetime } from './ttl.js';

/** What the files need from the store. */
export interface StoreSide extends PersistenceEvents {
  file: string;
  opts: ResolvedOptions;
  cache: LRUCache<string, string>;
  lru: LruInternals;
  stringify: (session: unknown) => unknown;
  /** A counter that increases on every change to the sessions. */
  changes: () => number;
  /** Live sessions at `now`, least recently used first. */
  copy: (now: number) => EntryCopy;
}

/**
 * Loads the snapshot and replays the journals into `side.cache`, and returns the persistence that keeps them.
 * @throws on a damaged file (unless moved aside), a held lock, or an unusable path; the files are left untouched.
 */
export function openFiles(side: StoreSide): Persistence {
  const { file, opts, cache } = side;
  const persistence = new Persistence(
    { file, periodMs: opts.savePeriodMs, fs: opts.fs, onDamagedFile: opts.onDamagedFile, journal: opts.journal },
    { changes: side.changes, copy: side.copy, clock: opts.clock },
    { emit: (event, info) => { side.emit(event, info); }, report: (err) => { side.report(err); } },
  );
  const replay = new JournalReplay({
    delete: (id) => { cache.delete(id); },
    clear: () => { cache.clear(); },
    put: (record) => { replace(side, record); },
  }, opts.maxEntries !== 0 || opts.maxBytes !== Number.MAX_SAFE_INTEGER);
  persistence.open({
    insert: (record) => insert(side, record),
    fromLegacy: legacyConverter({ now: opts.clock(), defaultLifetime: defaultLifetime(opts.public), stringify: side.stringify }),
    replay: (record) => { replay.apply(record); },
    replayed: () => { replay.finish(); },
    reset: () => { cache.clear(); },
    journalFirst: () => replay.collectFirst(),
  });
  return persistence;
}

/**
 * Puts a snapshot record in the cache with its absolute expiry; expired ones are dropped. Returns false for an
 * id already loaded (a snapshot never repeats one). A repeat of a record dropped as expired, too large or
 * evicted by `max`/`maxSize` goes unnoticed, and is harmless: the later record is what the store keeps.
 */
function insert({ lru, opts, cache }: StoreSide, record: SnapshotRecord): boolean {
  if (lru.keyMap.has(record.id)) return false;
  const now = opts.clock();
  if (isExpired(record.expires, now)) return true;
  const size = record.bytes === undefined ? entrySize(record.id, record.value) : Math.max(1, record.bytes);
  if (size > opts.maxBytes) return true;
  putEntry(cache, record.id, record.value, record.expires, now, size);
  return true;
}

/** Puts a journal record in the cache, replacing any earlier version; expired ones are dropped. */
function replace({ opts, cache }: StoreSide, record: SnapshotRecord): void {
  const now = opts.clock();
  const size = record.bytes === undefined ? entrySize(record.id, record.value) : Math.max(1, record.bytes);
  if (isExpired(record.expires, now) || size > opts.maxBytes) {
    cache.delete(record.id);
    return;
  }
  putEntry(cache, record.id, record.value, record.expires, now, size);
}
