/** Node-style callback as express-session passes it; optional, as in memorystore. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCallback = (err: any, value?: any) => void;

/**
 * Calls `cb` later, exactly once. Scheduling (instead of calling) means a callback that throws can never
 * be caught by our own code and called a second time with its own error.
 *
 * setImmediate, as express-session's MemoryStore and memorystore do, rather than process.nextTick: over
 * HTTP it cut the server's CPU per request on reads by about 12% (bench/http.mjs, two builds of this package
 * side by side in two runs of 10 rounds: 393-399 µs against 446-450 µs with nextTick; requests that change the
 * session were even). express-session finishes each response from the store's callback, and setImmediate
 * runs those callbacks in one batch per turn of the event loop. A store-API loop awaiting one call at a
 * time pays about 1 µs more per call (bench/throughput.mjs shows both floors).
 */
export function later(cb: AnyCallback | undefined, err?: Error | null, value?: unknown): void {
  if (typeof cb !== 'function') return;
  // A miss calls back with no arguments at all, as memorystore and MemoryStore do.
  if (err === undefined) setImmediate(cb);
  else if (value === undefined) setImmediate(cb, err);
  else setImmediate(cb, err, value);
}

/**
 * Hands the rejection of a promise that user code returned where the store expects no promise (an `async` dispose
 * hook) to `report`, or drops it when `report` is omitted (the caller was already given an error for the promise):
 * Node ends the process on an unhandled rejection. Only a native Promise is handled: reading `then` of any other
 * object is user code too.
 */
export function handleRejection(value: unknown, report?: (err: Error) => void): void {
  if (!(value instanceof Promise)) return;
  void Promise.prototype.then.call(value, undefined, (err: unknown) => { report?.(toError(err)); });
}

/** Normalizes whatever was thrown into an Error, so callers always get one. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  try {
    return new Error(String(thrown));
  } catch {
    // An object without a prototype, or whose toString throws: the conversion must not throw out of a catch.
    return new Error('a value that is not an Error, and cannot be converted to a string, was thrown');
  }
}
