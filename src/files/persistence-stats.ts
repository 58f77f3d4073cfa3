/** What the persistence reports: the outcome of saves, of the load at start, and the journal's state. */
import type { LoadResult } from './snapshot-loader.js';

/** How journal records reach disk: see the `journal` option. */
export type JournalMode = 'everysec' | 'always';

/** The `store.stats.persistence.journal` view. */
export interface JournalStats {
  mode: JournalMode;
  /** The journal appended to now, `<saveFile>.journal.<generation>`. */
  file: string;
  generation: number;
  /** Bytes and records appended since the last snapshot. */
  bytes: number;
  records: number;
  /** Changes whose records are not yet written, or that wait for a sync in 'always' mode (one that wrote nothing too). */
  pending: number;
  /** When the last sync completed (ms since the epoch). */
  lastSyncAt: number | undefined;
  /** Syncs that took longer than a second, or that the next one, due, found still running; each counted once. */
  delayedSyncs: number;
  /** Whether a write or sync failed and no snapshot has recovered from it yet. */
  failed: boolean;
  /** The message of the last write or sync failure, kept once a snapshot has recovered from it (`failed` is then false). */
  lastError: string | undefined;
}

/** Outcome of a save: `store.stats.persistence.lastSave`, and the `'save'` event's payload (after a successful one). */
export interface SaveInfo {
  /** When it finished (ms since the epoch). */
  at: number;
  durationMs: number;
  /** Bytes of the snapshot written; 0 for a failed save. */
  bytes: number;
  /** Sessions in it (for a failed save, those it was writing). */
  sessions: number;
  outcome: 'ok' | 'error';
  /** The failure's message, for `outcome: 'error'`. */
  error: string | undefined;
}

/** What the start found: `store.stats.persistence.load`, and the `'load'` event's payload. */
export interface LoadInfo extends LoadResult {
  durationMs: number;
  /** Live sessions after the load. */
  sessions: number;
  /**
   * Where the damaged snapshot was moved (`onDamagedFile: 'move-aside'`), or with no snapshot file its first journal;
   * the other journals moved beside it with the same `.corrupt-<timestamp>` ending, and the warning names every file.
   */
  movedAside: string | undefined;
  /** Journals and journal records replayed after the snapshot. */
  journalFiles: number;
  journalRecords: number;
  /** Bytes of a torn last journal record dropped (the process died mid-append), 0 when none. */
  tornBytes: number;
}

/** The `store.stats` view of the persistence. */
export interface PersistenceStats {
  /** The snapshot file (`saveFile`). */
  file: string;
  /**
   * Changes since the last successful save (0: the snapshot holds what memory holds; the others are in the journal, if
   * any). Right after a start, the journal records it replayed.
   */
  changesSinceSave: number;
  /** Whether a snapshot is being written now. */
  saving: boolean;
  /** The last save, successful or not; `undefined` before the first. */
  lastSave: SaveInfo | undefined;
  /** When the last successful save finished (ms since the epoch). */
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
