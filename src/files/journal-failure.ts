/**
 * The journal's failed state: a write or sync failed, so nothing more is written to or trusted from the journal
 * (a failed fsync is never retried on the same file: the kernel may have dropped the pages it could not write).
 * It ends only when a snapshot whose copy of memory was taken after the failure is durable: that snapshot names a
 * journal created after the failure, and holds every change the failed journal may have lost.
 */
/** The error given to changes the journal could not make durable, and in 'always' mode to later ones until recovery. */
export class JournalError extends Error {
  readonly code = 'ERR_JOURNAL_FAILED';
  constructor(path: string, cause: unknown) {
    super(`express-memfilestore: could not write the journal "${path}" (${cause instanceof Error ? cause.message : String(cause)}); ` +
      'sessions stay in memory and a snapshot with a fresh journal is retried every second', { cause });
    this.name = 'JournalError';
  }
}

export class JournalFailure {
  #error: JournalError | undefined;
  #last: JournalError | undefined;
  /** The generation whose snapshot ends the failure: the first whose copy of memory was taken after it. */
  #recoverGen = Infinity;

  /** The failure, `undefined` when healthy. */
  get error(): JournalError | undefined {
    return this.#error;
  }

  /** The last failure, kept after a recovery: a failure over before anyone looked still shows in the stats. */
  get last(): JournalError | undefined {
    return this.#last;
  }

  /**
   * Enters (or stays in) the failed state; a later failure replaces the error and restarts the recovery.
   * @returns the error, and whether the journal was healthy before (a failure is reported once).
   */
  fail(path: string, cause: unknown): { error: JournalError; first: boolean } {
    const first = this.#error === undefined;
    this.#error = new JournalError(path, cause);
    this.#last = this.#error;
    this.#recoverGen = Infinity;
    return { error: this.#error, first };
  }

  /** Journal `gen` was created after the failure: the snapshot naming it ends the failure. */
  recoverWith(gen: number): void {
    if (this.#error !== undefined) this.#recoverGen = Math.min(this.#recoverGen, gen);
  }

  /** The snapshot naming journal `gen` is durable. */
  snapshotDone(gen: number): void {
    if (this.#error !== undefined && gen >= this.#recoverGen) {
      this.#error = undefined;
      this.#recoverGen = Infinity;
    }
  }
}
