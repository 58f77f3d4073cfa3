import { isExpired } from '../../store/lru-entries.js';
import { stringFlag, type Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { sessionCount } from '../output.js';
import { PhaseTimer } from '../phase-timer.js';
import { readStoreFile } from '../read-store-file.js';
import { BatchError, inBatches } from '../redis/batches.js';
import { prefixPattern, RedisConnection } from '../redis/client.js';
import { sessionExpiry } from '../session-value.js';
import { lockFile } from '../write-store-file.js';
import { batchFlag, prefixFlag, targetFlag, ttlFlag } from './flags.js';

interface Outgoing {
  key: string;
  value: string;
  /** Absolute expiry, ms since the epoch. */
  at: number;
  /** How much later than `at` the key may expire, in ms: 0, except where the time left was sent (PX). */
  late: number;
}

/**
 * Every live session to Redis/Valkey exactly as connect-redis 9/10 would have written it: key
 * `<prefix><sid>`, value the stored JSON, expiry `cookie.expires` (else now + --ttl). Written as an absolute
 * expiry (PXAT; the time left, PX, on servers before 6.2), so a rerun writes the same thing: safe.
 */
export const migrate: Command = {
  name: 'migrate',
  summary: 'copy every live session to Redis or Valkey, as connect-redis writes them',
  usage: 'migrate <file> --to <redis-url> [--prefix sess:] [--ttl 86400] [--replace | --skip-existing]',
  help: [
    '  --to <url>            redis://, rediss://, valkey:// or valkeys://[user[:password]@]host[:port][/db]',
    '  --password-file <f>   read the server password from a file ("-": standard input), keeping it out of ps and',
    '                        shell history; it replaces a password in the URL',
    '  --prefix <p>          key prefix, as RedisStore\'s "prefix" (default sess:)',
    '  --ttl <seconds>       expiry of a session whose cookie has none, as RedisStore\'s "ttl" (default 86400)',
    '  --replace             overwrite keys that already exist under the prefix (a rerun after a failure)',
    '  --skip-existing       keep keys that already exist under the prefix, write the others',
    '  --batch <n>           sessions per batch, one server call each (default 1000)',
  ].join('\n'),
  options: {
    to: { type: 'string' }, 'password-file': { type: 'string' }, prefix: { type: 'string' }, ttl: { type: 'string' },
    replace: { type: 'boolean' }, 'skip-existing': { type: 'boolean' }, batch: { type: 'string' },
  },
  positionals: ['file'],
  async run(ctx) {
    const { out, args, now } = ctx;
    const file = args.positionals[0] as string;
    const to = stringFlag(ctx, 'to');
    if (to === undefined) throw new UsageError('migrate needs --to <redis-url>');
    const target = targetFlag(ctx, to);
    const prefix = prefixFlag(ctx);
    const ttl = ttlFlag(ctx, 86_400);
    const batch = batchFlag(ctx);
    const replace = args.values.replace === true;
    const skipExisting = args.values['skip-existing'] === true;
    if (replace && skipExisting) throw new UsageError('--replace and --skip-existing exclude each other');

    const lock = lockFile(file, { writing: false });
    try {
      const phases = new PhaseTimer();
      const sessions = outgoing(file, now, prefix, ttl);
      phases.end('read');
      const server = await RedisConnection.connect(target);
      phases.end('connect');
      try {
        if (!replace && !skipExisting && await anyKey(server, prefix)) {
          throw new CliError(`${target.shown} already holds keys under the prefix "${prefix}": nothing was written. ` +
            'Add --replace to overwrite them (a rerun of this migration), or --skip-existing to keep them');
        }
        phases.skip();
        const started = performance.now();
        const written = await write(ctx, server, sessions.list, batch, skipExisting, file);
        phases.end('write');
        const { mismatched, expired: expiredSince } = await check(ctx, server, written.sent, batch);
        phases.end('verify');
        const seconds = (performance.now() - started) / 1000;
        const data = {
          file, to: target.shown, prefix, sessions: sessions.list.length, written: written.sent.length - expiredSince,
          // Counted only by --skip-existing (the keys it kept); --replace overwrites without asking what was there.
          existing: skipExisting ? written.existing : null, expired: sessions.expired + expiredSince,
          verified: written.sent.length - expiredSince - mismatched, mismatched,
          seconds: Number(seconds.toFixed(3)), phases: phases.seconds,
        };
        if (mismatched > 0) {
          throw new CliError(`verification failed: ${mismatched} of ${data.written} sessions written to ${target.shown} ` +
            `do not have the value or expiry sent (was something else writing there?); rerun with ${rerunFlag(skipExisting)}`);
        }
        out.result(`migrated ${sessionCount(sessions.list.length)} from "${file}" to ${target.shown} (prefix ${prefix}): ` +
          `${data.written} written, ${skipExisting ? `${written.existing} kept (already there), ` : ''}${data.expired} expired left out; ` +
          `verified ${data.verified}/${data.written} in ${seconds.toFixed(1)} s`, data);
        out.info(`next: use connect-redis (connect-redis@9 on Node 20) with new RedisStore({ client, prefix: ${JSON.stringify(prefix)} }), ` +
          'a client without keyPrefix, and keep session({ name, secret }) as they are');
        return 0;
      } finally {
        await server.close();
      }
    } finally {
      lock.release();
    }
  },
};

/** The live sessions to send; a value connect-redis could not read stops everything before a byte is sent. */
function outgoing(file: string, now: number, prefix: string, ttl: number): { list: Outgoing[]; expired: number } {
  const read = readStoreFile(file, now);
  const list: Outgoing[] = [];
  let expired = read.droppedExpired;
  let notSessions = 0;
  for (const [sid, { expires, value }] of read.sessions) {
    if (isExpired(expires, now)) {
      expired++;
      continue;
    }
    const session = sessionExpiry(value);
    if (session === undefined) {
      notSessions++;
      continue;
    }
    // connect-redis's getTTL: the cookie's expiry, else its ttl option.
    const at = session.expiry ?? now + ttl * 1000;
    if (at <= now) {
      expired++;
      continue;
    }
    list.push({ key: prefix + sid, value, at, late: 0 });
  }
  if (notSessions > 0) {
    throw new CliError(`${sessionCount(notSessions)} of "${file}" ${notSessions === 1 ? 'is' : 'are'} not JSON objects with a cookie (a custom serializer?), ` +
      'which connect-redis could not read: nothing was sent');
  }
  return { list, expired };
}

/**
 * The flag of a rerun that finishes a failed migration: --replace, or --skip-existing when that is what the user chose
 * ("the same command with --replace" would then be refused, the two exclude each other, and --replace alone would
 * overwrite the keys the user chose to keep; the keys this run wrote hold what a rerun would write).
 */
function rerunFlag(skipExisting: boolean): string {
  return skipExisting ? '--skip-existing' : '--replace';
}

async function anyKey(server: RedisConnection, prefix: string): Promise<boolean> {
  let cursor = '0';
  do {
    const reply = await server.send(['SCAN', cursor, 'MATCH', prefixPattern(prefix), 'COUNT', '1000']) as [string, string[]];
    if (reply[1].length > 0) return true;
    cursor = reply[0];
  } while (cursor !== '0');
  return false;
}

/** Sends the sessions in awaited batches (one script call or one pipeline each); on a failure, says how far it got and how to finish. */
async function write(ctx: Parameters<Command['run']>[0], server: RedisConnection, list: Outgoing[], batch: number,
  skipExisting: boolean, file: string): Promise<{ sent: Outgoing[]; existing: number }> {
  const progress = ctx.out.progress('migrate', list.length);
  const sent: Outgoing[] = [];
  let existing = 0;
  try {
    await inBatches(list, batch, (slice) => server.write(slice, skipExisting), ({ kept, late }, slice) => {
      if (late > 0) for (const item of slice) item.late = late;
      if (kept.length === 0) {
        for (const item of slice) sent.push(item);
      } else {
        const left = new Set(kept);
        for (const [j, item] of slice.entries()) if (!left.has(j)) sent.push(item);
        existing += kept.length;
      }
      progress.tick(slice.length);
    });
  } catch (err) {
    const done = err instanceof BatchError ? err.done : sent.length + existing;
    throw new CliError(`writing failed after ${done} of ${list.length} sessions: ${server.describe(err)}. ` +
      `"${file}" is unchanged. Fix the cause, then run the same command with ${rerunFlag(skipExisting)} to finish (a rerun is safe)`);
  } finally {
    progress.done();
  }
  return { sent, existing };
}

/**
 * Reads back every key written: same value, same expiry (exact with PEXPIRETIME, within 2 s otherwise). A key gone
 * whose expiry has passed by now expired on its own (the SET waited on a slow server, or the verify came after it):
 * counted as expired, as it would have been had the file been read a moment later, not as a mismatch.
 */
async function check(ctx: Parameters<Command['run']>[0], server: RedisConnection, sent: Outgoing[],
  batch: number): Promise<{ mismatched: number; expired: number }> {
  const progress = ctx.out.progress('verify', sent.length);
  let mismatched = 0;
  let expired = 0;
  try {
    await inBatches(sent, batch, (slice) => server.readBack(slice.map((s) => s.key)), (read, slice) => {
      for (const [j, item] of slice.entries()) {
        const at = read.expiries[j] ?? NaN;
        if (at === -2 && read.values[j] === null && item.at <= Date.now()) {
          expired++;
          continue;
        }
        // PEXPIRETIME gives back the PXAT sent; PTTL (Redis before 7.0) only to the clock's precision, and off by as long
        // as the SET (with PX) or the PTTL waited on the server: a failover's pause is not a mismatch.
        const expiryOk = server.hasAbsoluteExpiry ? at === item.at
          : at <= item.at + item.late + 2000 && at + read.early >= item.at - 2000;
        if (read.values[j] !== item.value || !expiryOk) mismatched++;
      }
      progress.tick(slice.length);
    });
  } catch (err) {
    throw new CliError(`verification could not read back: ${server.describe(err)}`);
  } finally {
    progress.done();
  }
  return { mismatched, expired };
}
