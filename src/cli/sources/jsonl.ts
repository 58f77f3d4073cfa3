/** Import from JSON Lines as `export` writes them: `{"sid", "expires" (ms, null for never), "session"}`. */
import { createReadStream } from 'node:fs';
import { CliError } from '../errors.js';
import { jsonErrorAt } from '../redact.js';
import { storedText } from '../session-value.js';
import type { Imported } from './source.js';

/** Whether the start of a file looks like our JSON Lines (a 1.x file starts `{"<sid>":{`, never `{"sid":"`). */
export function looksLikeJsonLines(head: string): boolean {
  return /^\s*\{\s*"sid"\s*:\s*"/.test(head);
}

/** @throws CliError at the first line that is not a session line (line number, never its content). */
export async function readJsonLines(file: string, now: number): Promise<Imported> {
  const sessions: Imported['sessions'] = new Map();
  let expired = 0;
  let line = 0;
  /** Every sid read, expired ones included: a repeat is refused whichever line of the two has expired. */
  const seen = new Set<string>();
  for await (const text of linesOf(file)) {
    line++;
    if (text.trim() === '') continue;
    let data: unknown;
    try {
      // A byte order mark (an editor on Windows saves one) starts the file: JSON.parse takes it for a character.
      data = JSON.parse(line === 1 && text.startsWith('\ufeff') ? text.slice(1) : text);
    } catch (err) {
      throw new CliError(`"${file}" line ${line}: ${jsonErrorAt(err)}; nothing was written`);
    }
    const { sid, expires, session } = (data ?? {}) as { sid?: unknown; expires?: unknown; session?: unknown };
    // The empty id is one the store accepts (and exports); an id with a lone surrogate is not: saved as UTF-8 it becomes
    // U+FFFD, and two such ids one, a file the store would refuse to start with.
    if (typeof sid !== 'string' || !sid.isWellFormed() || !(expires === null || (Number.isSafeInteger(expires) && (expires as number) > 0)) ||
        session === undefined) {
      throw new CliError(`"${file}" line ${line}: not a session line {"sid": well-formed string, "expires": ms or null, ` +
        '"session": the session}; nothing was written');
    }
    if (seen.has(sid)) throw new CliError(`"${file}" line ${line}: repeats the sid of an earlier line; nothing was written`);
    seen.add(sid);
    if (expires !== null && (expires as number) <= now) {
      expired++;
      continue;
    }
    const value = storedText(session);
    if (value === undefined) throw new CliError(`"${file}" line ${line}: the session is nested too deeply to be stored; nothing was written`);
    sessions.set(sid, { expires: (expires as number | null) ?? 0, value });
  }
  return { sessions, expired, damaged: 0, kind: 'JSON Lines' };
}

/**
 * The lines of `file`, split at "\n" only (a "\r" before it dropped). Not readline: on Node 24 it also ends a line at
 * U+2028 and U+2029, which JSON strings may hold raw (JSON.stringify writes them so), splitting a session in two.
 */
async function* linesOf(file: string): AsyncGenerator<string> {
  // The pieces of the line not ended yet, joined once its end comes: prepending them to every chunk and splitting the
  // whole again copied and scanned the line once per 64 KiB, and a 40 MB session took 14.5 s to import.
  let pieces: string[] = [];
  for await (const chunk of createReadStream(file, 'utf8')) {
    const text = chunk as string;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
      const piece = text.slice(start, end);
      if (pieces.length === 0) yield withoutCr(piece);
      else {
        pieces.push(piece);
        yield withoutCr(pieces.join(''));
        pieces = [];
      }
    }
    if (start < text.length) pieces.push(text.slice(start));
  }
  const rest = pieces.join('');
  if (rest !== '') yield withoutCr(rest);
}

function withoutCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
