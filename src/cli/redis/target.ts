/**
 * Which Redis/Valkey server the user named, and with which password: the URL checked and mapped for node-redis, the
 * password read from `--password-file`, and the URL as it is safe to print.
 */
import { readFileSync } from 'node:fs';
import { CliError, UsageError } from '../errors.js';
import { hasAtAfterHost, maskUrl } from '../redact.js';

const SCHEMES: Record<string, string> = { 'redis:': 'redis:', 'rediss:': 'rediss:', 'valkey:': 'redis:', 'valkeys:': 'rediss:' };

/** A server address as the user gave it, parsed; `shown` is safe to print. */
export interface Target {
  url: string;
  shown: string;
  password: string | undefined;
}

/** Whether `text` names a Redis/Valkey server (a URL with one of our schemes). */
export function isRedisUrl(text: string): boolean {
  return /^(redis|rediss|valkey|valkeys):\/\//i.test(text);
}

/**
 * Refuses a server URL missing its "//" (`redis:/:pw@host`, `redis:host`), a typo that would otherwise be taken for a
 * host-less URL (node-redis then fails on its path) or, as an import source, for a file name printed back whole,
 * password included. The message does not repeat the text.
 */
export function refuseMalformedServerUrl(text: string): void {
  const scheme = /^(redis|rediss|valkey|valkeys):/i.exec(text);
  if (scheme !== null && !isRedisUrl(text)) {
    throw new UsageError(`"${scheme[0]}" must be followed by "//": ${scheme[0]}//[user[:password]@]host[:port][/db]`);
  }
}

/**
 * Checks a server URL and maps `valkey(s)://` to `redis(s)://` (node-redis refuses Valkey's scheme; the
 * protocol is the same). A password from `passwordFile` replaces the URL's: the file is the deliberate choice, the URL
 * may come from an environment variable shared with the app.
 * @throws UsageError for another scheme or a URL that does not parse.
 */
export function parseTarget(text: string, passwordFile: string | undefined): Target {
  refuseMalformedServerUrl(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`not a URL: ${maskUrl(text)} (expected redis://, rediss://, valkey:// or valkeys://)`);
  }
  const scheme = SCHEMES[url.protocol.toLowerCase()];
  if (scheme === undefined) {
    throw new UsageError(`unsupported URL scheme "${url.protocol}" in ${maskUrl(text)} (expected redis://, rediss://, valkey:// or valkeys://)`);
  }
  // node-redis would take the user name for the host (and fail to resolve it, or reach another server).
  if (hasAtAfterHost(url)) {
    throw new UsageError(`${maskUrl(text)} has an "@" after its host: a password holding "/", "?" or "#" must be written ` +
      'percent-encoded (%2F, %3F, %23), or given with --password-file');
  }
  // node-redis takes the path for the database with Number(): "/sessions" failed at connect as "Invalid pathname" (exit
  // 1, as if the server were at fault), and "/1.5", "/-1" or "/0x10" were sent on (SELECT 16 for the last).
  const db = url.pathname.slice(1);
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new UsageError(`the database "${db}" in ${maskUrl(text)} is not a number: write it as /<db>, a whole number such as /0`);
  }
  if (passwordFile !== undefined) url.password = encodeURIComponent(readPassword(passwordFile));
  let password: string | undefined;
  try {
    password = url.password === '' ? undefined : decodeURIComponent(url.password);
  } catch {
    // node-redis decodes it too, and would fail the same way: a usage error, saying how to write it.
    throw new UsageError(`the password in ${maskUrl(url.href)} is not percent-encoded: write a "%" in it as %25, or give it with --password-file`);
  }
  const mapped = `${scheme}${url.href.slice(url.protocol.length)}`;
  return { url: mapped, shown: maskUrl(url.href), password };
}

/**
 * The password in `passwordFile` without its trailing newline; `-` is standard input (`pass show redis | …`), which
 * must be a pipe or a file: on a terminal it would wait for typing with the password echoed.
 */
function readPassword(passwordFile: string): string {
  if (passwordFile === '-' && process.stdin.isTTY) {
    throw new UsageError('--password-file - reads the password from standard input, which is a terminal here: pipe it in or name a file');
  }
  try {
    return readFileSync(passwordFile === '-' ? 0 : passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new CliError(`cannot read --password-file "${passwordFile}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
