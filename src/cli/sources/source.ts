/** What every import source produces. */
import type { SavedSession } from '../read-store-file.js';

export interface Imported {
  /** Live sessions by id, values as JSON of the session. */
  sessions: Map<string, SavedSession>;
  /** Sessions left out because they had expired (or vanished while read). */
  expired: number;
  /** Entries that could not be read as sessions, left out with --skip-damaged. */
  damaged: number;
  /** What the source was, for the summary. */
  kind: string;
  /** Seconds spent in each step of reading, where the source reports them (`--json` only). */
  phases?: Record<string, number>;
}

