/**
 * Session ids are strings in express-session; memorystore's users also pass numbers (`store.set(1, ...)`).
 * Both become strings, as in express-session's MemoryStore and in the snapshot file, so `1` and `'1'`
 * name the same session before and after a restart.
 */
export function toId(sid: unknown): string | TypeError {
  if (typeof sid === 'string') {
    // Ids are saved as UTF-8: two ids with lone surrogates would both become U+FFFD, one session.
    if (sid.isWellFormed()) return sid;
    return new TypeError('express-memfilestore: a session id must be a well-formed string, got one with a lone surrogate');
  }
  if (typeof sid === 'number' && Number.isFinite(sid)) return String(sid);
  if (typeof sid === 'bigint') return String(sid);
  const got = typeof sid === 'number' ? String(sid) : sid === null ? 'null' : typeof sid;
  return new TypeError(`express-memfilestore: a session id must be a string or a finite number, got ${got}`);
}
