import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isExpired } from '../../store/lru-entries.js';
import { stringFlag, type Command, type Context } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { sessionCount } from '../output.js';
import { readStoreFile, warnIfRunning } from '../read-store-file.js';
import { maskUrl } from '../redact.js';
import { isRedisUrl, refuseMalformedServerUrl, type Target } from '../redis/target.js';
import { looksLikeJsonLines, readJsonLines } from '../sources/jsonl.js';
import { readRedis } from '../sources/redis.js';
import { readSessionFileStore } from '../sources/session-file-store.js';
import type { Imported } from '../sources/source.js';
import { PhaseTimer } from '../phase-timer.js';
import { lockFile, writeStoreFile } from '../write-store-file.js';
import { batchFlag, prefixFlag, targetFlag, ttlFlag } from './flags.js';

/** Sessions from JSON Lines, a 1.x file, a session-file-store directory or Redis/Valkey into a snapshot file. */
export const importCommand: Command = {
  name: 'import',
  summary: 'read sessions from JSON Lines, a 1.x file, a session-file-store directory or Redis/Valkey into a session file',
  usage: 'import <source> --into <file> [--merge | --replace]',
  help: [
    '  <source>              an export (.jsonl), an express-memfilestore 1.x file, a session-file-store directory,',
    '                        or redis://, rediss://, valkey://, valkeys://[user[:password]@]host[:port][/db]',
    '  --into <file>         the session file to write (atomically, mode 0600); refused while a running store holds it',
    '  --merge               add to the sessions the file already holds (an imported id replaces the saved one)',
    '  --replace             write only the imported sessions, dropping those the file holds (the way back from',
    '                        Redis into the file you migrated from: its sessions are older than the source\'s)',
    '  --prefix <p>          Redis key prefix (default sess:)',
    '  --ttl <seconds>       Redis: expiry of a session with none (default 86400, connect-redis\'s);',
    '                        session-file-store: its "ttl" option (default 3600, its own)',
    '  --password-file <f>   Redis: read the password from a file ("-": standard input); it replaces one in the URL',
    '  --batch <n>           Redis: sessions read per round trip (MGET and their expiries; default 1000)',
    '  --ext <ext>           session-file-store: file extension (default .json)',
    '  --secret-file <f>     session-file-store: read the "secret" of an encrypted directory from a file',
    '  --skip-damaged        import what can be read, leaving out (and counting) what cannot',
  ].join('\n'),
  options: {
    into: { type: 'string' }, merge: { type: 'boolean' }, replace: { type: 'boolean' }, prefix: { type: 'string' }, ttl: { type: 'string' },
    'password-file': { type: 'string' }, ext: { type: 'string' }, 'secret-file': { type: 'string' },
    'skip-damaged': { type: 'boolean' }, batch: { type: 'string' },
  },
  positionals: ['source'],
  async run(ctx) {
    const { out, args, now } = ctx;
    const source = args.positionals[0] as string;
    const into = stringFlag(ctx, 'into');
    if (into === undefined || into === '') throw new UsageError('import needs --into <file>');
    refuseMalformedServerUrl(source);
    const redisTarget = isRedisUrl(source) ? targetFlag(ctx, source) : undefined;
    if (redisTarget === undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
      throw new UsageError(`unsupported source URL scheme in "${maskUrl(source)}" (expected redis://, rediss://, valkey:// or valkeys://)`);
    }
    const merge = args.values.merge === true;
    const replace = args.values.replace === true;
    if (merge && replace) throw new UsageError('--merge and --replace cannot be used together');
    const lock = lockFile(into, { writing: true });
    try {
      const target = readStoreFile(into, now, false);
      let held = 0;
      for (const session of target.sessions.values()) if (!isExpired(session.expires, now)) held++;
      if (held > 0 && !merge && !replace) {
        // Not "add --merge": into the file a migration came from, a merge brings back sessions logged out since.
        throw new CliError(`"${into}" already holds ${held} session${held === 1 ? '' : 's'}: nothing was written. ` +
          'Add --replace to write only the imported sessions (the way back into the file you migrated from: a merge ' +
          'would bring back sessions logged out since), --merge to add to them, or choose another --into');
      }
      const replaced = replace ? held : 0;
      if (replace) held = 0;
      let phases = new PhaseTimer();
      const imported = await readSource(ctx, source, redisTarget);
      // Not one session, not even an expired one (nothing at all, or only entries --skip-damaged left out): a wrong
      // --prefix, database number, directory or serializer far more often than a source that really is empty, and
      // --replace would then empty the file with exit 0 (everyone logged out).
      if (replaced > 0 && imported.sessions.size + imported.expired === 0) {
        const what = redisTarget === undefined ? `"${source}" (${imported.kind})` : imported.kind;
        const check = redisTarget !== undefined ? '--prefix and the database number (/<db> in the URL)'
          : imported.kind.startsWith('session-file-store') ? 'the directory and --ext' : 'the file';
        const none = imported.damaged > 0 ? `no session it can read (${imported.damaged} unreadable)` : 'no session, not even an expired one';
        throw new CliError(`${what} holds ${none}: nothing was written. --replace would have ` +
          `left "${into}" with none of its ${replaced} session${replaced === 1 ? '' : 's'}: check ${check}. ` +
          'To empty the file on purpose, delete it first');
      }
      // A Redis source times its own phases (scan, fetch); the others are one read.
      if (imported.phases === undefined) phases.end('read');
      else phases = new PhaseTimer(imported.phases);
      // Nothing live to keep (the usual import): the imported sessions as they are, not copied one by one.
      let sessions = imported.sessions;
      if (held > 0) {
        sessions = new Map([...target.sessions].filter(([, s]) => !isExpired(s.expires, now)));
        // An imported session is the most recent use of its id.
        for (const [id, session] of imported.sessions) {
          sessions.delete(id);
          sessions.set(id, session);
        }
      }
      phases.skip();
      const bytes = await writeStoreFile(into, sessions, Date.now());
      phases.end('write');
      // The saved sessions still in the file: those an imported id replaced are not kept.
      const kept = sessions.size - imported.sessions.size;
      const data = {
        source: redisTarget?.shown ?? source, kind: imported.kind, into, imported: imported.sessions.size,
        expired: imported.expired, damaged: imported.damaged, kept, sessions: sessions.size, bytes, phases: phases.seconds,
      };
      out.result(`imported ${sessionCount(imported.sessions.size)} from ${imported.kind} into "${into}" ` +
        `(${imported.expired} expired left out${imported.damaged > 0 ? `, ${imported.damaged} unreadable skipped` : ''}` +
        `${merge ? `, ${kept} kept` : ''}; ${sessionCount(sessions.size)}, ${bytes} bytes)`, data);
      return 0;
    } finally {
      lock.release();
    }
  },
};

async function readSource(ctx: Context, source: string, redisTarget: Target | undefined): Promise<Imported> {
  const { out, now, args } = ctx;
  const skipDamaged = args.values['skip-damaged'] === true;
  if (redisTarget !== undefined) {
    return readRedis(redisTarget, now, { prefix: prefixFlag(ctx), ttl: ttlFlag(ctx, 86_400), batch: batchFlag(ctx), skipDamaged }, out);
  }
  let isDirectory: boolean;
  try {
    isDirectory = statSync(source).isDirectory();
  } catch (err) {
    throw new CliError(`cannot read "${source}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(err)}`);
  }
  if (isDirectory) {
    return readSessionFileStore(source, now, {
      ext: stringFlag(ctx, 'ext', '.json') as string, ttl: ttlFlag(ctx, 3600), secretFile: stringFlag(ctx, 'secret-file'), skipDamaged,
    }, out);
  }
  const start = head(source);
  // An export of a store without live sessions is an empty file: JSON Lines by its name, not a damaged snapshot (an
  // empty file named otherwise is still refused as one: a truncated backup must not replace sessions with none).
  if (looksLikeJsonLines(start) || (start.trim() === '' && /\.(jsonl|ndjson)$/i.test(source))) return readJsonLines(source, now);
  // A 1.x file (or one of our snapshots): through the store's own loader.
  const read = readStoreFile(source, now);
  warnIfRunning(out, source);
  const sessions: Imported['sessions'] = new Map();
  let expired = read.droppedExpired;
  for (const [id, session] of read.sessions) {
    if (isExpired(session.expires, now)) expired++;
    else sessions.set(id, session);
  }
  return { sessions, expired, damaged: 0, kind: read.load.format === '1.x' ? 'express-memfilestore 1.x file' : 'snapshot file' };
}

function head(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64);
    return buffer.toString('utf8', 0, readSync(fd, buffer, 0, buffer.length, 0));
  } finally {
    closeSync(fd);
  }
}
