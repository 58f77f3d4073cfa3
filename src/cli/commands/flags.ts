/** Flags shared by migrate and import, checked once. */
import { stringFlag, type Context } from '../command.js';
import { UsageError } from '../errors.js';
import { parseTarget, type Target } from '../redis/target.js';

/** The server URL with `--password-file` applied; a password typed in the URL gets redis-cli's warning. */
export function targetFlag(ctx: Context, url: string): Target {
  const passwordFile = stringFlag(ctx, 'password-file');
  const target = parseTarget(url, passwordFile);
  if (target.password !== undefined && passwordFile === undefined) {
    ctx.out.info('note: a password in the URL can be seen by other users (ps, shell history); --password-file <f> avoids that');
  }
  return target;
}

export function prefixFlag(ctx: Context): string {
  return stringFlag(ctx, 'prefix', 'sess:') as string;
}

/** `--ttl` in seconds, a positive whole number. */
export function ttlFlag(ctx: Context, fallback: number): number {
  return positiveInteger(ctx, 'ttl', fallback);
}

export function batchFlag(ctx: Context): number {
  return positiveInteger(ctx, 'batch', 1000);
}

function positiveInteger(ctx: Context, name: string, fallback: number): number {
  const text = stringFlag(ctx, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`--${name} expects a positive whole number, got "${text}"`);
  }
  return value;
}
