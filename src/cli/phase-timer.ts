/**
 * Where a long command's time went, for `--json`'s `phases` (bench/cli.mjs reads them): each phase ends where the
 * next starts, so no interval is measured twice or lost between two readings of the clock.
 */
export class PhaseTimer {
  /** Seconds per phase, to the millisecond. */
  readonly seconds: Record<string, number>;
  #since = performance.now();

  /** @param earlier - phases already timed elsewhere (a source that timed its own), kept in front. */
  constructor(earlier: Record<string, number> = {}) {
    this.seconds = { ...earlier };
  }

  /** Records the time since the last phase ended (or since the timer started) as `name`; the next phase starts now. */
  end(name: string): void {
    const now = performance.now();
    this.seconds[name] = Number(((now - this.#since) / 1000).toFixed(3));
    this.#since = now;
  }

  /** Starts the next phase now, leaving the time since the last one out (work that is no phase, as a check). */
  skip(): void {
    this.#since = performance.now();
  }
}
