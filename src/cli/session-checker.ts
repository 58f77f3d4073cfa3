/**
 * Checks stored values as connect-redis would read them (session-value.ts `sessionExpiry`), half of them on a worker
 * thread. Why: migrate must check every value before it sends a byte, and import checks every value it reads back;
 * `JSON.parse` of 100k sessions was the largest piece of node's time in both, on one core while the other idled
 * (nothing is sent yet during migrate's check; import's server has little to do). The worker runs the very same
 * function, so the results cannot differ; where a worker cannot start or fails, its batches are checked here.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sessionExpiry } from './session-value.js';

/** In a result: the value is not a session (not JSON of an object with a cookie). */
export const NOT_A_SESSION = Number.NaN;
/** In a result: a session whose cookie has no expiry (a browser-session cookie). */
export const NO_EXPIRY = Number.POSITIVE_INFINITY;

/** Below this many values in all, a worker's start costs more than it saves. */
const WORKER_FROM = 20_000;

/** The result of checking each value: its cookie's expiry (ms since the epoch), {@link NO_EXPIRY} or {@link NOT_A_SESSION}. */
export function checkValues(values: readonly string[]): Float64Array {
  const result = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const session = sessionExpiry(values[i] as string);
    result[i] = session === undefined ? NOT_A_SESSION : session.expiry ?? NO_EXPIRY;
  }
  return result;
}

interface Pending {
  values: readonly string[];
  resolve: (result: Float64Array) => void;
}

/**
 * Batches handed in turn to the worker and to this thread. {@link close} it when done: the worker would keep the
 * process alive.
 */
export class SessionChecker {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #turn = 0;
  #fromWorker = 0;

  /** Batches the worker answered (none when it could not start or failed): for tests. */
  get workerBatches(): number {
    return this.#fromWorker;
  }

  /** @param expected values to be checked in all: a worker only when there are enough for it to pay. */
  constructor(expected: number) {
    if (expected < WORKER_FROM) return;
    try {
      const worker = new Worker(join(__dirname, 'session-check-worker.js'));
      worker.unref();
      worker.on('message', ({ id, result }: { id: number; result: Float64Array }) => {
        const pending = this.#pending.get(id);
        this.#pending.delete(id);
        this.#fromWorker++;
        pending?.resolve(result);
      });
      // A worker that fails leaves its batches to this thread: the same check, only slower.
      worker.on('error', () => { this.#abandon(); });
      worker.on('exit', () => { this.#abandon(); });
      this.#worker = worker;
    } catch {
      this.#worker = undefined;
    }
  }

  /**
   * The check of `values` ({@link checkValues}): every other batch goes to the worker, the others are checked now.
   * Never rejects.
   */
  check(values: readonly string[]): Promise<Float64Array> {
    const worker = this.#worker;
    if (worker === undefined || this.#turn++ % 2 === 1) return Promise.resolve(checkValues(values));
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, { values, resolve });
      try {
        worker.postMessage({ id, values });
      } catch {
        this.#abandon();
      }
    });
  }

  /** Checks `values` in batches (half on the worker) and joins the results. */
  async checkAll(values: readonly string[], batch = 5000): Promise<Float64Array> {
    const parts: Promise<Float64Array>[] = [];
    for (let start = 0; start < values.length; start += batch) parts.push(this.check(values.slice(start, start + batch)));
    const result = new Float64Array(values.length);
    let at = 0;
    for (const part of await Promise.all(parts)) {
      result.set(part, at);
      at += part.length;
    }
    return result;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }

  /** The worker is gone: what it still had is checked here. */
  #abandon(): void {
    this.#worker = undefined;
    for (const [id, { values, resolve }] of this.#pending) {
      this.#pending.delete(id);
      resolve(checkValues(values));
    }
  }
}
