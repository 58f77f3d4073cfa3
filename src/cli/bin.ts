#!/usr/bin/env node
/** The `express-memfilestore` executable: see main.ts. */
import { cleanUpAfterSignal } from './interrupted.js';
import { main } from './main.js';
import { endBySignal } from '../store/signals.js';

// Ended by a signal mid-write (Ctrl-C during an export or import): its temp file and lock are removed first, then the
// signal ends the process as it would have (`once`: re-raised, it finds no listener).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    cleanUpAfterSignal();
    endBySignal(signal);
  });
}

// A reader that goes away before everything is written (`export --out - | head`, `inspect --json | true`) fails the
// write with EPIPE: without a listener Node would crash with its own stack trace. Reported in one line, exit 1,
// unless the command already failed on it with its own message (export says how far it got).
let stdoutError: Error | undefined;
let finished = false;
const reportStdout = (err: Error): void => {
  const code = (err as NodeJS.ErrnoException).code ?? err.message;
  const what = code === 'EPIPE' ? 'standard output was closed before everything was written' : 'writing to standard output failed';
  process.stderr.write(`error: ${what} (${code}): the output is incomplete\n`);
  process.exitCode = 1;
};
process.stdout.on('error', (err: Error) => {
  if (stdoutError !== undefined) return;
  stdoutError = err;
  if (finished && process.exitCode === 0) reportStdout(err);
});

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then((code) => {
  finished = true;
  process.exitCode = code;
  if (stdoutError !== undefined && code === 0) reportStdout(stdoutError);
}, (err: unknown) => {
  finished = true;
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
