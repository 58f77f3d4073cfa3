/** Written so the optimizer cannot drop the conversion in {@link flatten} as dead code. */
export let flattenSink = 0;

/**
 * Concatenation gives a rope (a tree of pieces, one of them often a slice that keeps a whole larger string
 * alive) until something flattens it. Stored sessions live long: converting to a number makes V8 flatten
 * the rope into one flat string (the `flatstr` trick), so memory per session stays at one copy.
 */
export function flatten(s: string): string {
  flattenSink = Number(s);
  return s;
}
