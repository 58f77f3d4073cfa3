import type { ParseArgsConfig } from 'node:util';
import type { Output } from './output.js';

/** Options and positionals after parsing, as `node:util` parseArgs gives them. */
interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface Context {
  out: Output;
  args: Parsed;
  env: NodeJS.ProcessEnv;
  /** Ms since the epoch, read once per command: every expiry decision of a run uses the same instant. */
  now: number;
}

/** One subcommand: its help text, its own flags, and what it does. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Lines describing the command's own flags, for --help. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Names of the positional arguments it requires. */
  positionals: string[];
  run(ctx: Context): Promise<number>;
}

/** A string flag's value, or `fallback`. */
export function stringFlag(ctx: Context, name: string, fallback?: string): string | undefined {
  const value = ctx.args.values[name];
  return typeof value === 'string' ? value : fallback;
}
