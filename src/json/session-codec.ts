/**
 * Sessions to stored text and back, through the store's serializer, with the fast paths that apply only to `JSON`:
 * the hand-written cookie (session-json.ts) and the cookie spliced into stored text (cookie-splice.ts).
 */
import type { Serializer } from '../option-types.js';
import { spliceCookie } from './cookie-splice.js';
import { cookieJson, parseErrorPosition, sessionJson } from './session-json.js';
import { handleRejection, toError } from '../store/callback.js';

export class SessionCodec {
  readonly #serializer: Serializer;
  /** Whether the serializer is `JSON` itself: only then do the fast paths give the serializer's exact text. */
  readonly #json: boolean;

  constructor(serializer: Serializer) {
    this.#serializer = serializer;
    this.#json = serializer === JSON;
  }

  /** The text to store for `session`; may be a non-string from a custom serializer ({@link storable} says). Throws what the serializer throws. */
  stringify(session: unknown): unknown {
    return this.#json ? sessionJson(session) ?? JSON.stringify(session) : this.#serializer.stringify(session);
  }

  /** The session stored as `text`. Throws what the serializer throws (see {@link parseError}). */
  parse(text: string): unknown {
    return this.#serializer.parse(text);
  }

  /**
   * The stored session with its cookie replaced, without parsing it when the text allows. Throws what the serializer
   * throws, a parse error as {@link parseError} gives it.
   */
  withCookie(stored: string, cookie: unknown): unknown {
    if (this.#json && cookie !== undefined && cookie !== null) {
      // JSON.stringify gives undefined for a cookie whose toJSON does: the slow path then drops it, as it should.
      const json: unknown = cookieJson(cookie) ?? JSON.stringify(cookie);
      const spliced = typeof json === 'string' ? spliceCookie(stored, json) : undefined;
      if (spliced !== undefined) return spliced;
    }
    let session: Record<string, unknown>;
    try {
      session = this.#serializer.parse(stored) as Record<string, unknown>;
    } catch (err) {
      // As get and all word it: V8's own message quotes the stored text (session contents) into the app's logs.
      throw this.parseError(err);
    }
    session.cookie = cookie;
    return this.#serializer.stringify(session);
  }

  /** `text` when it can be stored and saved, else the error to call back with. */
  storable(text: unknown): string | TypeError {
    if (typeof text !== 'string') {
      // The set is told; an async stringify's rejection must not also end the process.
      handleRejection(text);
      return new TypeError(`express-memfilestore: serializer.stringify must return a string, got ${text instanceof Promise ? 'a Promise' : typeof text}`);
    }
    // The file holds UTF-8, where a lone surrogate cannot survive: refuse it now rather than lose it at a restart.
    // (JSON.stringify never produces one; a custom serializer might.)
    if (!this.#json && !text.isWellFormed()) {
      return new TypeError('express-memfilestore: serializer.stringify returned text with a lone surrogate, which cannot be saved');
    }
    return text;
  }

  /**
   * The error to give for a failed parse. V8's JSON.parse error quotes the text around the fault: session contents,
   * which express-session passes to `next(err)` and so to logs. Keep only the position. A custom serializer's errors
   * are its own.
   */
  parseError(err: unknown): Error {
    // toError: a thrown value String() cannot convert must not throw out of here, into the caller of get() or all().
    if (!this.#json || !(err instanceof SyntaxError)) return toError(err);
    const at = parseErrorPosition(err);
    return new SyntaxError(`express-memfilestore: a stored session is not valid JSON${at === undefined ? '' : ` (at position ${at})`}`);
  }
}
