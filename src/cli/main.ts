/**
 * The `express-memfilestore` command: parses arguments with node:util's parseArgs (no dependency; five
 * subcommands and a dozen flags fit it), runs one subcommand, and turns its outcome into an exit code:
 * 0 done, 1 the check or the operation failed, 2 usage (unknown command or flag, missing argument, bad URL).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Command } from './command.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { inspect } from './commands/inspect.js';
import { migrate } from './commands/migrate.js';
import { verify } from './commands/verify.js';
import { CliError } from './errors.js';
import { Output, type Io } from './output.js';
import { argvMasker } from './redact.js';

const COMMANDS: Command[] = [verify, inspect, exportCommand, importCommand, migrate];
const BIN = 'express-memfilestore';

const GLOBAL_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'no-color': { type: 'boolean' },
};

/** The global flags that take no value, accepted before the command. */
const LEADING_FLAGS = new Set(['--json', '-q', '--quiet', '--no-color']);

const GLOBAL_HELP: [string, string][] = [
  ['--json', 'print the result as one JSON object on stdout (errors too: {"ok":false,...})'],
  ['-q, --quiet', 'no progress, no notes on stderr (warnings and errors still)'],
  ['--no-color', 'no colour (NO_COLOR is honoured too)'],
  ['-h, --help', 'this help'],
];

/** The global flags' help, their descriptions starting at `column` (that of the command's own flags). */
function globalHelp(column: number, extra: [string, string][] = []): string {
  return [...GLOBAL_HELP, ...extra].map(([flag, text]) => `  ${flag.padEnd(column - 4)}  ${text}`).join('\n');
}

/** Runs the CLI with `argv` (without node and the script). @returns the exit code. */
export async function main(given: string[], io: Io): Promise<number> {
  // Global flags may come before the command too (`--json verify f`), as the top-level help lists them.
  let lead = 0;
  while (lead < given.length && LEADING_FLAGS.has(given[lead] as string)) lead++;
  const argv = [...given.slice(lead), ...given.slice(0, lead)];
  const first = lead === given.length ? undefined : argv[0];
  if (first === '--version') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    (first === undefined ? io.stderr : io.stdout).write(topHelp());
    return first === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  const mask = argvMasker(argv);
  const early = new Output(io, { json: argv.includes('--json'), quiet: false, color: !argv.includes('--no-color') }, mask);
  if (command === undefined) {
    early.error(`unknown command "${first}" (commands: ${COMMANDS.map((c) => c.name).join(', ')}); see ${BIN} --help`, 2);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv.slice(1), options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs words some errors over several lines (the ambiguous `--ttl -5` says how to pass `--ttl=-5`): one line.
    early.error(`${(err as Error).message.split('\n').join(' ').replace(/\.$/, '')}; see ${BIN} ${command.name} --help`, 2);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) {
    io.stdout.write(commandHelp(command));
    return 0;
  }
  if (values.version === true) {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  const out = new Output(io, { json: values.json === true, quiet: values.quiet === true, color: values['no-color'] !== true }, mask);
  if (parsed.positionals.length !== command.positionals.length) {
    const what = parsed.positionals.length < command.positionals.length
      ? `missing <${command.positionals[parsed.positionals.length] ?? ''}>` : `unexpected argument "${parsed.positionals[command.positionals.length] ?? ''}"`;
    out.error(`${what}; usage: ${BIN} ${command.usage}`, 2);
    return 2;
  }
  try {
    return await command.run({ out, args: { values, positionals: parsed.positionals }, env: io.env, now: Date.now() });
  } catch (err) {
    if (err instanceof CliError) {
      out.error(err.message, err.exitCode);
      return err.exitCode;
    }
    // Not expected; the message only, as a stack could carry a value from a library's frame.
    out.error(`${command.name} failed: ${err instanceof Error ? err.message : String(err)}`, 1);
    return 1;
  }
}

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `Usage: ${BIN} <command> [options]`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    globalHelp(17, [['--version', 'print the version']]),
    '',
    `Run "${BIN} <command> --help" for a command's options. Exit codes: 0 done, 1 failed, 2 usage error.`,
    'Session ids and contents are never printed; passwords in URLs are shown as ***.',
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [
    `Usage: ${BIN} ${command.usage}`,
    '',
    `${command.summary[0]?.toUpperCase() ?? ''}${command.summary.slice(1)}.`,
    '',
    'Options:',
    ...(command.help === '' ? [] : [command.help]),
    globalHelp(helpColumn(command.help)),
    '',
  ].join('\n');
}

/** Where the descriptions of a command's flags start (two spaces, the flag, two or more spaces); 17 without flags. */
function helpColumn(help: string): number {
  return /^ {2}\S.*? {2,}(?=\S)/.exec(help)?.[0].length ?? 17;
}

function version(): string {
  // dist/cli/main.js → the package's package.json.
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
