/**
 * How much journal lies beside the last durable snapshot (the stats), and when it calls for a new snapshot: the bytes
 * appended since the last switch against a limit that follows the size of the last snapshot written, as Redis's
 * auto-rewrite compares the AOF with its size at the last rewrite.
 */
export class JournalSize {
  /** Appended since the last switch: what the limit is compared with. */
  #bytes: number;
  #records: number;
  /**
   * Appended before the last switch and not yet in a durable snapshot (the snapshots of those switches failed): still
   * on disk beside the snapshot, and replayed by a restart. Counted in the stats, not against the limit.
   */
  #unabsorbed = { bytes: 0, records: 0 };
  /** Journal bytes that call for a snapshot. */
  limit: number;

  /** @param replayed - bytes and records already appended since the snapshot (the journals replayed at the start). */
  constructor(replayed: { bytes: number; records: number }, limit: number) {
    this.#bytes = replayed.bytes;
    this.#records = replayed.records;
    this.limit = limit;
  }

  get bytes(): number {
    return this.#unabsorbed.bytes + this.#bytes;
  }

  get records(): number {
    return this.#unabsorbed.records + this.#records;
  }

  /** Counts a write. @returns whether the journal since the last switch has reached the limit. */
  appended(bytes: number, records: number): boolean {
    this.#bytes += bytes;
    this.#records += records;
    return this.#bytes >= this.limit;
  }

  /** A switch to a new journal: what was appended until now waits for the snapshot taken with it. */
  switched(): void {
    this.#unabsorbed.bytes += this.#bytes;
    this.#unabsorbed.records += this.#records;
    this.#bytes = 0;
    this.#records = 0;
  }

  /** A snapshot taken at the last switch is durable: it holds every journal before that switch. */
  absorbed(): void {
    this.#unabsorbed = { bytes: 0, records: 0 };
  }
}
