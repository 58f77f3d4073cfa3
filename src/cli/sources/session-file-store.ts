/**
 * Import from a session-file-store directory: one `<sid><ext>` file per session, plain JSON with
 * `__lastAccess`, or kruptein-encrypted when the app set `secret`. Files are only read (session-file-store
 * itself deletes a file it cannot parse; we never do). Expiry as session-file-store computes it:
 * `__lastAccess + (cookie.originalMaxAge || ttl)`; expired ones are dropped. File names are session ids: never printed.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { cookieExpiry, isSession, storedText } from '../session-value.js';
import { byExpiry, type Imported } from './source.js';

/** session-file-store's own crypto options. */
const SFS_CRYPTO = { algorithm: 'aes-256-gcm', hashing: 'sha512', use_scrypt: true };

interface Kruptein {
  get(secret: string, ciphertext: string, cb: (err: unknown, plaintext?: string) => void): void;
}

export interface SfsOptions {
  ext: string;
  /** session-file-store's `ttl` option, in seconds. */
  ttl: number;
  secretFile: string | undefined;
  skipDamaged: boolean;
}

export async function readSessionFileStore(dir: string, now: number, opts: SfsOptions, out: Output): Promise<Imported> {
  const secret = opts.secretFile === undefined ? undefined : readSecret(opts.secretFile);
  const kruptein = secret === undefined ? undefined : await loadKruptein();
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(opts.ext) && name.length > opts.ext.length);
  } catch (err) {
    throw new CliError(`cannot read the directory "${dir}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const sessions: Imported['sessions'] = new Map();
  let expired = 0;
  let unreadable = 0;
  let wrongSecret = 0;
  /** Read without a secret, files shaped as kruptein's ciphertext: an encrypted directory. */
  let encrypted = 0;
  const progress = out.progress(secret === undefined ? 'read' : 'decrypt', names.length);
  for (const name of names) {
    progress.tick();
    let data: unknown;
    let mtimeMs: number;
    const path = join(dir, name);
    try {
      const { text, mtime } = readSessionFile(path);
      mtimeMs = mtime;
      if (kruptein !== undefined && secret !== undefined) {
        const plain = decrypt(kruptein, secret, text);
        if (plain === undefined) {
          wrongSecret++;
          continue;
        }
        // kruptein encrypts the JSON string as JSON: two parses.
        data = JSON.parse(JSON.parse(plain) as string);
      } else {
        data = JSON.parse(text);
      }
    } catch {
      unreadable++;
      continue;
    }
    if (!isSession(data)) {
      if (isCiphertext(data)) encrypted++;
      unreadable++;
      continue;
    }
    const { __lastAccess: lastAccessField, ...session } = data;
    const lastAccess = typeof lastAccessField === 'number' ? lastAccessField : mtimeMs;
    const originalMaxAge = session.cookie.originalMaxAge;
    const lifetime = typeof originalMaxAge === 'number' && originalMaxAge > 0 ? originalMaxAge : opts.ttl * 1000;
    const sfsExpiry = lastAccess + lifetime;
    const expires = Math.ceil(cookieExpiry(session) ?? sfsExpiry);
    if (sfsExpiry < now || expires <= now) {
      expired++;
      continue;
    }
    const value = storedText(session);
    if (value === undefined) {
      unreadable++; // nested too deeply to be stored
      continue;
    }
    sessions.set(name.slice(0, -opts.ext.length), { expires, value });
  }
  progress.done();
  const damaged = unreadable + wrongSecret;
  if (damaged > 0 && !opts.skipDamaged) {
    const why = wrongSecret > 0 ? ` (${wrongSecret} failed to decrypt: wrong secret, or not encrypted?)`
      : encrypted > 0 ? ` (${encrypted} are encrypted: give the app's session-file-store "secret" with --secret-file)` : '';
    throw new CliError(`${damaged} of ${names.length} files in "${dir}" could not be read as sessions${why}; nothing was written. ` +
      'Add --skip-damaged to import the others');
  }
  return { sessions: byExpiry(sessions), expired, damaged, kind: `session-file-store directory${secret === undefined ? '' : ' (encrypted)'}` };
}

/** Not followed, never waited on (a FIFO): open flags that Windows lacks are 0 there. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * A session file's text and modification time. session-file-store writes only regular files: a symbolic link (which
 * whoever can write the directory may point at a file only the user running the import can read) and a FIFO (its
 * read never ends) are refused as unreadable, as is anything else that is not a regular file.
 * @throws an Error when it is not a regular file or cannot be read.
 */
function readSessionFile(path: string): { text: string; mtime: number } {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error('not a regular file');
    return { text: readFileSync(fd, 'utf8'), mtime: stat.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** kruptein's ciphertext, as session-file-store writes it with a `secret`: `{ hmac, ct, iv, ... }`. */
function isCiphertext(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'ct' in data && 'iv' in data && 'hmac' in data;
}

function readSecret(file: string): string {
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new CliError(`cannot read --secret-file "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (secret === '') throw new CliError(`--secret-file "${file}" is empty`);
  return secret;
}

function decrypt(kruptein: Kruptein, secret: string, text: string): string | undefined {
  let plain: string | undefined;
  // kruptein calls back synchronously.
  kruptein.get(secret, text, (err, pt) => {
    if (err === null || err === undefined) plain = pt;
  });
  return plain;
}

/** kruptein (what session-file-store encrypts with), an optional peer loaded only for an encrypted directory. */
async function loadKruptein(): Promise<Kruptein> {
  let mod: { default?: unknown };
  try {
    // A specifier in a variable: kruptein has no types, and TypeScript must not look for them.
    const name = 'kruptein';
    mod = (await import(name)) as typeof mod;
  } catch {
    throw new CliError('reading an encrypted session-file-store directory needs the "kruptein" package ' +
      '(an optional peer dependency; session-file-store installs it): run "npm install kruptein@2"');
  }
  const factory = (mod.default ?? mod) as (options: object) => Kruptein;
  return factory(SFS_CRYPTO);
}
