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


/**
 * `sessions` in order of expiry, soonest first: how a snapshot lists sessions (least recently used first, the order a
 * start rebuilds its LRU from) when the source keeps no order of use (Redis's SCAN, a directory's listing). A session
 * that expires later was used more recently: express-session moves the expiry on each request that saves or touches
 * it. Without this, a store whose `max` is below the count evicted at random at its first start.
 */
export function byExpiry(sessions: Map<string, SavedSession>): Map<string, SavedSession> {
  // 0 is "never expires": last, as the most recently used would be.
  const rank = (expires: number): number => (expires === 0 ? Infinity : expires);
  return new Map([...sessions].sort(([, a], [, b]) => rank(a.expires) - rank(b.expires)));
}
