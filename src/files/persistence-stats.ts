/** What the persistence reports: the outcome of saves, of the load at start, and the journal's state. */
import type { LoadResult } from './snapshot-loader.js';

/** How journal records reach disk: see the `journal` option. */
export type JournalMode = 'everysec' | 'always';

/** The `store.stats.persistence.journal` view. */
export interface JournalStats {
  mode: JournalMode;
  file: string;
  generation: number;
  /** Bytes and records appended since the last snapshot. */
  bytes: number;
  records: number;
  /** Changes whose records are not yet written, or that wait for a sync in 'always' mode (one that wrote nothing too). */
  pending: number;
  /** When the last sync completed (ms since the epoch). */
  lastSyncAt: number | undefined;
  /** Syncs that took longer than a second, or found the previous one still running when due. */
  delayedSyncs: number;
  /** Whether a write or sync failed and no snapshot has recovered from it yet. */
  failed: boolean;
  lastError: string | undefined;
}

/** Outcome of a save: `store.stats.persistence.lastSave`, and the `'save'` event's payload (after a successful one). */
export interface SaveInfo {
  /** When it finished (ms since the epoch). */
  at: number;
  durationMs: number;
  bytes: number;
  sessions: number;
  outcome: 'ok' | 'error';
  error: string | undefined;
}

/** What the start found: `store.stats.persistence.load`, and the `'load'` event's payload. */
export interface LoadInfo extends LoadResult {
  durationMs: number;
  /** Live sessions after the load. */
  sessions: number;
  /** Where damaged files were moved (`onDamagedFile: 'move-aside'`); the first is the snapshot's. */
  movedAside: string | undefined;
  /** Journals and journal records replayed after the snapshot. */
  journalFiles: number;
  journalRecords: number;
  /** Bytes of a torn last journal record dropped (the process died mid-append), 0 when none. */
  tornBytes: number;
}

/** The `store.stats` view of the persistence. */
export interface PersistenceStats {
  file: string;
  /** Changes since the last successful save (0: the file holds what memory holds). */
  changesSinceSave: number;
  saving: boolean;
  lastSave: SaveInfo | undefined;
  lastSuccessAt: number | undefined;
  /** Snapshots started because the journal outgrew the last snapshot. */
  compactions: number;
  load: LoadInfo;
  /** `undefined` with `journal: false`. */
  journal: JournalStats | undefined;
}

export function saveInfo(started: number, now: number, bytes: number, sessions: number, error: Error | undefined): SaveInfo {
  return {
    at: now,
    durationMs: performance.now() - started,
    bytes,
    sessions,
    outcome: error === undefined ? 'ok' : 'error',
    error: error?.message,
  };
}

export function emptyLoad(): LoadInfo {
  return {
    format: 'none', records: 0, bytes: 0, writtenAt: undefined, sha256: '-', journal: undefined, absorbed: undefined, durationMs: 0, sessions: 0,
    movedAside: undefined, journalFiles: 0, journalRecords: 0, tornBytes: 0,
  };
}
