/**
 * Applies the journal's changes after the snapshot at start, so memory ends as it was live: the last change of
 * each session wins, deletions (destroys and evictions) are applied before the sessions that stay are put back in
 * the order they were last written. Replaying into the cache record by record would let `max`/`maxSize` evict a
 * session that was live (the cache does not see the reads that reordered it then) and keep one that was evicted.
 * Without such bounds nothing is evicted, so the records go straight in, in order, to the same end state: no map
 * of 100k pending records (a third of the replay's time went to collecting it).
 */
import type { JournalRecord } from './journal-format.js';

/** What the replay changes. */
export interface ReplayTarget {
  delete(id: string): void;
  clear(): void;
  put(record: JournalRecord): void;
}

export class JournalReplay {
  readonly #target: ReplayTarget;
  /** Last change per id, in order of last change: a record to put, or null to delete. */
  readonly #last = new Map<string, JournalRecord | null>();
  #direct: boolean;
  /** A clear was replayed: nothing the snapshot holds survives it. */
  #cleared = false;

  /** @param bounded - the target evicts (`max`/`maxSize`): keep each session's last change and apply them at the end. */
  constructor(target: ReplayTarget, bounded: boolean) {
    this.#target = target;
    this.#direct = !bounded;
  }

  apply(record: JournalRecord): void {
    if (this.#direct) {
      if (record.op === 'c') this.#target.clear();
      else if (record.op === 'd') this.#target.delete(record.id);
      else this.#target.put(record);
      return;
    }
    if (record.op === 'c') {
      this.#last.clear();
      this.#cleared = true;
      this.#target.clear();
      return;
    }
    // Deleted first so a session changed again moves to the end of the order.
    this.#last.delete(record.id);
    this.#last.set(record.id, record.op === 'd' ? null : record);
  }

  /**
   * For a replay that runs before the snapshot loads (recover.ts): collects each session's last change, and
   * returns whether the journal replaces a session, so the snapshot's version is skipped instead of loaded and
   * then overwritten (an overwrite costs the cache four times an insert, and leaves the old value as garbage).
   */
  collectFirst(): (id: string) => boolean {
    this.#direct = false;
    return (id) => this.#cleared || this.#last.has(id);
  }

  /** Applies what the records left; call once after the last one. */
  finish(): void {
    for (const [id, record] of this.#last) if (record === null) this.#target.delete(id);
    for (const record of this.#last.values()) if (record !== null) this.#target.put(record);
    this.#last.clear();
    this.#cleared = false;
  }
}
