/** Node-style callback as express-session passes it; optional, as in memorystore. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCallback = (err: any, value?: any) => void;

/**
 * Calls `cb` on a later tick, exactly once. Scheduling (instead of calling) means a callback that throws
 * can never be caught by our own code and called a second time with its own error.
 */
export function later(cb: AnyCallback | undefined, err?: Error | null, value?: unknown): void {
  if (typeof cb !== 'function') return;
  // A miss calls back with no arguments at all, as memorystore and MemoryStore do.
  if (err === undefined) process.nextTick(cb);
  else if (value === undefined) process.nextTick(cb, err);
  else process.nextTick(cb, err, value);
}

/** Normalizes whatever was thrown into an Error, so callers always get one. */
export function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
