/**
 * Import from Redis/Valkey keys `<prefix><sid>` as connect-redis writes them. Keys are found with SCAN
 * (never KEYS, which blocks the server), deduplicated (SCAN may return a key twice), and read in batches of MGET
 * plus each key's absolute expiry (redis/client.ts readBack).
 */
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { BatchError, inBatches } from '../redis/batches.js';
import { prefixPattern, RedisConnection } from '../redis/client.js';
import type { Target } from '../redis/target.js';
import { sessionExpiry } from '../session-value.js';
import { byExpiry, type Imported } from './source.js';
import { PhaseTimer } from '../phase-timer.js';

/** Keys SCAN looks at per call: a tenth of the round trips of 1000, and still a few ms of the server's time per call. */
const SCAN_COUNT = 10_000;

export interface RedisSourceOptions {
  prefix: string;
  /** Expiry in seconds of a key without one and a cookie without one (connect-redis's ttl). */
  ttl: number;
  batch: number;
  skipDamaged: boolean;
}

export async function readRedis(target: Target, now: number, opts: RedisSourceOptions, out: Output): Promise<Imported> {
  const server = await RedisConnection.connect(target);
  try {
    const phases = new PhaseTimer();
    const keys = await scan(server, opts.prefix);
    phases.end('scan');
    const sessions: Imported['sessions'] = new Map();
    let expired = 0;
    let damaged = 0;
    const progress = out.progress('import', keys.length);
    try {
      await inBatches(keys, opts.batch, (slice) => server.readBack(slice), (read, slice) => {
        for (const [j, key] of slice.entries()) {
          const value = read.values[j] ?? null;
          const at = read.expiries[j] ?? -2;
          // -2: gone since SCAN (expired or deleted); or a name that is not UTF-8, which node-redis decoded with U+FFFD
          // into a name no key has (two such keys into one): a session that cannot be read, not one that expired.
          if (at === -2) {
            if (value === null && key.includes('\uFFFD')) damaged++;
            else expired++;
            continue;
          }
          const session = value === null ? undefined : sessionExpiry(value);
          if (value === null || session === undefined) {
            damaged++;
            continue;
          }
          const expires = at === -1 ? session.expiry ?? now + opts.ttl * 1000 : at;
          if (expires <= now) {
            expired++;
            continue;
          }
          sessions.set(key.slice(opts.prefix.length), { expires, value });
        }
        progress.tick(slice.length);
      });
    } catch (err) {
      const done = err instanceof BatchError ? err.done : 0;
      throw new CliError(`reading from ${target.shown} failed after ${done} of ${keys.length} keys: ${server.describe(err)}; nothing was written`);
    } finally {
      progress.done();
    }
    phases.end('fetch');
    if (damaged > 0 && !opts.skipDamaged) {
      throw new CliError(`${damaged} of ${keys.length} keys under "${opts.prefix}" on ${target.shown} are not sessions ` +
        '(not a string of JSON with a cookie, or a key name that is not UTF-8); nothing was written. Add --skip-damaged to import the others');
    }
    return { sessions: byExpiry(sessions), expired, damaged, kind: `${server.serverName} ${target.shown} (prefix ${opts.prefix})`, phases: phases.seconds };
  } finally {
    await server.close();
  }
}

async function scan(server: RedisConnection, prefix: string): Promise<string[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const reply = await server.send(['SCAN', cursor, 'MATCH', prefixPattern(prefix), 'COUNT', String(SCAN_COUNT)]) as [string, string[]];
    for (const key of reply[1]) keys.add(key);
    cursor = reply[0];
  } while (cursor !== '0');
  return [...keys];
}
