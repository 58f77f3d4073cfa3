/**
 * The records of one event-loop turn, encoded into one reused buffer so journal-writer.ts writes them with one
 * `write` at the end of the turn (a `setImmediate` queued by the turn's first record), with the callbacks waiting for that write ('always', or a change held back by a rotation). While a
 * rotation holds records back, they are also kept whole: if the snapshot fails before the old journal's final sync,
 * they are re-encoded for the next journal (its own salt and sequence numbers).
 */
import { Buffer } from 'node:buffer';
import type { AnyCallback } from '../store/callback.js';
import { encodeJournalRecord, recordBound, type JournalOp } from './journal-format.js';
import type { JournalFile } from './journal-file.js';

interface HeldRecord { op: JournalOp; id: string; expires: number; value: string }

const INITIAL_BYTES = 64 * 1024;
/**
 * A buffer grown past this for one turn's records (a very large session: records are bounded at 3 bytes per UTF-16
 * unit) is let go once written: kept, a 20 MB session held 60 MB for the life of the store, long after it was gone.
 */
const KEPT_BYTES = 4 * 1024 * 1024;

export class RecordBatch {
  readonly #flush: () => void;
  #scheduled = false;
  #out = Buffer.allocUnsafe(INITIAL_BYTES);
  #bytes = 0;
  #records = 0;
  /** Callbacks waiting for the batch's write (a change that appended nothing too). */
  #waiting: AnyCallback[] = [];
  /** Changes in the batch whose callbacks do not wait for its write ('everysec': they are scheduled after it). */
  #unwaited = 0;
  #held: HeldRecord[] = [];

  /** @param flush - writes the batch; called at the end of the turn of the first record encoded since the last. */
  constructor(flush: () => void) {
    this.#flush = flush;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get records(): number {
    return this.#records;
  }

  /**
   * Changes in the batch: those waiting for its write, and those counted by {@link count}. Not its records: a set that
   * evicts another writes two, a change that appends nothing while others wait writes none.
   */
  get changes(): number {
    return this.#waiting.length + this.#unwaited;
  }

  /** Encodes a record for `file` (taking its next sequence number); `keep` keeps it whole for a rotation. */
  encode(file: JournalFile, op: JournalOp, id: string, expires: number, value: string, keep: boolean): void {
    this.#encode(file, op, id, expires, value);
    if (keep) this.#held.push({ op, id, expires, value });
    if (this.#scheduled) return;
    // Queued before the callback of the record's change (the store schedules it after appending): the write runs first.
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #encode(file: JournalFile, op: JournalOp, id: string, expires: number, value: string): void {
    const bound = recordBound(id, value);
    if (this.#bytes + bound > this.#out.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#out.length * 2, this.#bytes + bound));
      this.#out.copy(bigger, 0, 0, this.#bytes);
      this.#out = bigger;
    }
    this.#bytes = encodeJournalRecord(this.#out, this.#bytes, file.salt, file.seq++, op, id, expires, value);
    this.#records++;
  }

  /** Counts a change in the batch whose callback does not wait for the write. */
  count(): void {
    this.#unwaited++;
  }

  /** Adds a callback that waits for the batch's write. */
  wait(cb: AnyCallback): void {
    this.#waiting.push(cb);
  }

  /**
   * Empties the batch for its write. The buffer is reused by the next {@link encode}: write it before that.
   */
  take(): { out: Buffer; bytes: number; records: number; waiting: AnyCallback[] } {
    const taken = { out: this.#out, bytes: this.#bytes, records: this.#records, waiting: this.#waiting };
    this.#waiting = [];
    this.#clear();
    return taken;
  }

  /** Takes the callbacks waiting (a failure answers them) and drops the records. */
  drop(): AnyCallback[] {
    const waiting = this.#waiting.splice(0);
    this.#clear();
    return waiting;
  }

  /**
   * Drops the encoded records for a switch to `next`; with `carry`, the records kept whole are re-encoded for it
   * and stay kept. The callbacks waiting stay.
   */
  restartFor(next: JournalFile, carry: boolean): void {
    const held = carry ? this.#held : [];
    this.#clear();
    for (const r of held) this.#encode(next, r.op, r.id, r.expires, r.value);
    // Still held back in the next journal: a snapshot failing again before the release carries them again.
    this.#held = held;
  }

  #clear(): void {
    // The caller has taken the records out (take) or dropped them: a new buffer is safe to start on.
    if (this.#out.length > KEPT_BYTES) this.#out = Buffer.allocUnsafe(INITIAL_BYTES);
    this.#unwaited = 0;
    this.#bytes = 0;
    this.#records = 0;
    this.#held = [];
  }
}
