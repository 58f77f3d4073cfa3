import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../files/atomic-writer.js';
import { listJournals } from '../../files/journal-reader.js';
import { joinedInChunks } from '../../files/snapshot-writer.js';
import { isExpired } from '../../store/lru-entries.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { trackedFs } from '../interrupted.js';
import { sessionCount } from '../output.js';
import { readStoreFile, warnIfRunning } from '../read-store-file.js';
import { storedText } from '../session-value.js';


const SEPARATORS = /[\u2028\u2029]/g;
const escapeSeparator = (c: string): string => (c === '\u2028' ? '\\u2028' : '\\u2029');

/** Live sessions as JSON Lines `{"sid","expires","session"}`: to a new file (0600, atomic) or to a pipe. */
export const exportCommand: Command = {
  name: 'export',
  summary: 'write the live sessions as JSON Lines {"sid","expires","session"}',
  usage: 'export <file> --out <path|-> [--force]',
  help: [
    '  --out <path|->   where to write (mode 0600, atomically); "-" is stdout, refused on a terminal',
    '  --force          replace an existing --out file',
  ].join('\n'),
  options: { out: { type: 'string' }, force: { type: 'boolean' } },
  positionals: ['file'],
  async run({ out, args, now }) {
    const file = args.positionals[0] as string;
    const target = args.values.out;
    if (typeof target !== 'string' || target === '') throw new UsageError('export needs --out <path|->');
    if (target === '-' && out.stdout.isTTY === true) {
      throw new UsageError('refusing to print sessions (credentials) on a terminal: give --out <path>, or pipe stdout');
    }
    if (target !== '-' && existsSync(target) && args.values.force !== true) {
      throw new CliError(`"${target}" exists: choose another --out, or add --force to replace it`);
    }
    const read = readStoreFile(file, now);
    if (target !== '-' && isStoreFile(target, file)) {
      throw new CliError(`--out "${target}" is the session file or one of its journals: the export would replace it. Choose another --out`);
    }
    const heldBy = warnIfRunning(out, file);
    const lines: string[] = [];
    let notJson = 0;
    let tooDeep = 0;
    for (const [sid, { expires, value }] of read.sessions) {
      if (isExpired(expires, now)) continue;
      let session: unknown;
      try {
        session = JSON.parse(value);
      } catch {
        notJson++;
        continue;
      }
      // U+2028 and U+2029 escaped (the same JSON): JSON.stringify leaves them raw, and Node 24's readline ends a line at
      // them, splitting the session for every line reader there (the README's pipeline back to 1.x included).
      // JSON.parse reads any depth, JSON.stringify overflows past some thousands: only an import from Redis, which keeps
      // a value's text as it is, puts such a session in a file. It ended the export with "Maximum call stack size exceeded".
      const line = storedText({ sid, expires: expires === 0 ? null : expires, session });
      if (line === undefined) tooDeep++;
      else lines.push(`${line.replace(SEPARATORS, escapeSeparator)}\n`);
    }
    const refuseIfAny = (count: number, what: string): void => {
      if (count > 0) throw new CliError(`${sessionCount(count)} of "${file}" ${count === 1 ? 'is' : 'are'} ${what}: nothing was written`);
    };
    refuseIfAny(notJson, 'not JSON (a custom serializer?)');
    refuseIfAny(tooDeep, 'nested too deeply to be written as JSON');
    const progress = out.progress('export', lines.length);
    let bytes = 0;
    if (target === '-') {
      for (const chunk of joinedInChunks(lines.length, (i) => lines[i] as string)) {
        try {
          await out.raw(chunk.text);
        } catch (err) {
          // A reader that went away (`| head`: EPIPE). Waiting for 'drain' instead waited for ever, and the stream's
          // error event crashed the bin with a stack trace.
          const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
          const what = code === 'EPIPE' ? 'standard output was closed' : 'writing to standard output failed';
          throw new CliError(`${what} before all ${lines.length} sessions were written (${code}): the export is incomplete`);
        }
        bytes += Buffer.byteLength(chunk.text);
        progress.tick(chunk.pieces);
      }
    } else {
      try {
        bytes = await writeFileAtomic(trackedFs, target, async (write) => {
          for (const chunk of joinedInChunks(lines.length, (i) => lines[i] as string)) {
            await write(Buffer.from(chunk.text));
            progress.tick(chunk.pieces);
          }
        });
      } catch (err) {
        throw new CliError(`could not write "${target}": ${(err as Error).message}`);
      }
    }
    progress.done();
    const summary = { file, out: target, sessions: lines.length, bytes, heldBy: heldBy ?? null };
    if (target === '-') out.info(`exported ${sessionCount(lines.length)} (${bytes} bytes)`);
    else out.result(`exported ${sessionCount(lines.length)} from "${file}" to "${target}" (${bytes} bytes)`, summary);
    return 0;
  },
};

/**
 * Whether `target` names `file`, one of its journals or its lock (by path, or as the same file by another name): a
 * `--force` export there would replace the sessions it reads with JSON Lines, which the store refuses at its next start.
 */
function isStoreFile(target: string, file: string): boolean {
  let journals: string[] = [];
  try {
    journals = listJournals(file).map((journal) => journal.path);
  } catch {
    // No directory to list: no journal.
  }
  const at = (path: string): { dev: number; ino: number } | undefined => {
    try {
      return statSync(path);
    } catch {
      return undefined;
    }
  };
  const out = at(target);
  return [file, `${file}.lock`, ...journals].some((path) => {
    if (resolve(path) === resolve(target)) return true;
    const other = out === undefined ? undefined : at(path);
    return other !== undefined && out !== undefined && other.dev === out.dev && other.ino === out.ino;
  });
}
