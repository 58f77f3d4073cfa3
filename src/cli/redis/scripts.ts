/**
 * The Lua scripts behind migrate and import. node-redis spends about 16 µs of CPU per command it encodes and
 * decodes, more than the server spends running it: one script call per batch of a thousand sessions replaces
 * a thousand commands (two thousand when reading back value and expiry), which is where the speed of 100k
 * sessions in a few seconds comes from. Every command inside (SET … PXAT, PEXPIRETIME) is the one
 * connect-redis would send or read; PXAT needs Redis 6.2, PEXPIRETIME 7.0 (every Valkey has both).
 */
import { createHash } from 'node:crypto';

export interface Script {
  source: string;
  /** The SHA1 EVALSHA names it by, computed here: no SCRIPT LOAD round trip. */
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * `SET KEYS[i] ARGV[2i] PXAT ARGV[2i+1]` for each key (with NX when ARGV[1] is "NX"). Returns the 1-based
 * positions of the keys NX left as they were, usually none. A failing SET (OOM, READONLY) stops the script
 * with that error; the SETs before it stay, which a rerun with --replace overwrites with the same thing.
 */
export const WRITE = script(
  "local nx = ARGV[1] == 'NX' local kept = {} for i = 1, #KEYS do local ok " +
  "if nx then ok = redis.call('SET', KEYS[i], ARGV[2*i], 'PXAT', ARGV[2*i+1], 'NX') " +
  "else ok = redis.call('SET', KEYS[i], ARGV[2*i], 'PXAT', ARGV[2*i+1]) end " +
  'if not ok then kept[#kept+1] = i end end return kept');

/**
 * PEXPIRETIME of every key. Values are read with MGET beside it: returning them through Lua would copy each
 * value into and out of a Lua string, which cost the server more than the reads themselves.
 */
export const EXPIRIES = script(
  "local r = {} for i = 1, #KEYS do r[i] = redis.call('PEXPIRETIME', KEYS[i]) end return r");

/** Errors that mean "no scripts here" (an ACL without @scripting, a proxy without EVAL): use plain commands. */
export function refusesScripts(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /^(NOPERM|ERR unknown command|ERR .*(script|lua).*disabled)/i.test(message) && !/Error running script/i.test(message);
}
