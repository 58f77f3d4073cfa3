/**
 * When a snapshot is taken besides `flush()` and `close()`, for persistence.ts: every `savePeriod` when something
 * changed; when the journal outgrows the last snapshot (Redis's auto-rewrite: the snapshot is the compaction; after
 * one fails, the next waits a second); and every second after the journal failed, until a snapshot with a fresh
 * journal has recovered it. Every timer is unref'd: none keeps the process alive.
 */
import { log } from '../debug.js';
import type { JournalError } from './journal-failure.js';

const RECOVERY_RETRY_MS = 1000;

/** What the triggers need from the persistence. */
export interface TriggerHooks {
  /** Whether a snapshot is being written. */
  busy(): boolean;
  dirty(): boolean;
  journalFailed(): boolean;
  /** Takes a snapshot (coalescing with one running). */
  flush(): Promise<void>;
  /** A failure nobody called for. */
  report(err: Error): void;
}

export class SnapshotTriggers {
  readonly #periodMs: number;
  readonly #hooks: TriggerHooks;
  #timer: NodeJS.Timeout | undefined;
  #recovery: NodeJS.Timeout | undefined;
  /** close() began: no recovery timer any more (a close() that fails is retried by calling it again). */
  #stopped = false;
  #compactions = 0;
  /** When the last compaction failed (performance.now()): the next waits {@link RECOVERY_RETRY_MS} after it. */
  #grownFailedAt = -Infinity;

  constructor(periodMs: number, hooks: TriggerHooks) {
    this.#periodMs = periodMs;
    this.#hooks = hooks;
  }

  /** The `savePeriod` timer, `undefined` when none runs. */
  get timer(): NodeJS.Timeout | undefined {
    return this.#timer;
  }

  /** Snapshots started because the journal outgrew the last snapshot. */
  get compactions(): number {
    return this.#compactions;
  }

  startPeriod(): void {
    if (this.#periodMs === 0) return;
    clearInterval(this.#timer);
    this.#timer = setInterval(() => {
      if (!this.#hooks.dirty() || this.#hooks.busy()) return;
      this.#snapshot();
    }, this.#periodMs).unref();
  }

  stopPeriod(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the recovery retries for good (the period timer is stopped by {@link stopPeriod}). */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#recovery);
    this.#recovery = undefined;
  }

  /** The journal passed `limit` bytes (the last snapshot's size, or the minimum): a snapshot absorbs it. */
  grown(limit: number): void {
    // Every turn that writes past the limit asks again: after a failure (the directory gone, no descriptor left, the
    // lock taken) retrying at once made one failed save and one 'error' per request for as long as the fault lasted.
    if (this.#hooks.busy() || performance.now() - this.#grownFailedAt < RECOVERY_RETRY_MS) return;
    this.#compactions++;
    log('journal passed %d bytes: snapshot', limit);
    this.#hooks.flush().catch((err: unknown) => {
      this.#grownFailedAt = performance.now();
      this.#hooks.report(err as Error);
    });
  }

  /** Reports the failure once, then retries a snapshot with a fresh journal every second until one succeeds. */
  journalFailed(err: JournalError): void {
    log('journal failed: %s', err.message);
    this.#hooks.report(err);
    if (this.#recovery !== undefined || this.#stopped) return;
    this.#recovery = setInterval(() => {
      if (!this.#hooks.journalFailed()) {
        clearInterval(this.#recovery);
        this.#recovery = undefined;
        log('journal recovered by a snapshot');
        return;
      }
      if (!this.#hooks.busy()) this.#hooks.flush().catch((saveErr: unknown) => {
        log('recovery snapshot failed: %s', (saveErr as Error).message);
      });
    }, RECOVERY_RETRY_MS).unref();
  }

  #snapshot(): void {
    this.#hooks.flush().catch((err: unknown) => {
      this.#hooks.report(err as Error);
    });
  }
}
