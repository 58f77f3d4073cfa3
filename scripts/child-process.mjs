// Starting the children the crash loops kill (scripts/crash-loop.mjs, scripts/journal-crash-loop.mjs).
//
// A child is started ahead of its turn: it loads its modules, prints "warm" and waits for a line on its standard
// input, which hides Node's start-up time from the loop. `go(line)` lets it open the files; `ready` resolves once
// it printed "ready" (or rejects, with its stderr, if it died first); every other line it prints is kept, in order.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts `node <script> ...args` with `env` added to the environment.
 * @returns `{ proc, lines, closed, ready, stderr(), go(line), waitFor(predicate, ms) }`; `waitFor` resolves with
 * the first line (already printed or to come) that `predicate` accepts, or `undefined` after `ms` or at the exit.
 */
export function startChild(script, args, env) {
  const proc = spawn(process.execPath, [script, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines = [];
  const watchers = new Set();
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  proc.stdin.on('error', () => undefined); // a child that died early: its error is reported through `ready`
  const closed = new Promise((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (text) => {
      if (text === 'warm') return;
      lines.push(text);
      if (text === 'ready') resolve();
      for (const watch of watchers) watch(text);
    });
    closed.then(({ code, signal }) => {
      reject(Object.assign(new Error(`child exited (${code ?? signal}) before ready: ${stderr}`), { stderr: () => stderr }));
    });
  });
  ready.catch(() => undefined); // awaited later; not an unhandled rejection meanwhile
  const go = (line) => {
    proc.stdin.write(`${line}\n`);
    // Unattended: a child that never gets ready (a lock it cannot take, a hang) fails the run instead of stalling it.
    const timer = setTimeout(() => proc.kill('SIGKILL'), READY_TIMEOUT_MS);
    ready.then(() => clearTimeout(timer), () => clearTimeout(timer));
  };
  const waitFor = (predicate, ms) => {
    const seen = lines.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const done = (line) => {
        watchers.delete(watch);
        clearTimeout(timer);
        resolve(line);
      };
      const watch = (text) => { if (predicate(text)) done(text); };
      const timer = setTimeout(() => done(undefined), ms);
      watchers.add(watch);
      closed.then(() => done(undefined));
    });
  };
  return { proc, lines, closed, ready, stderr: () => stderr, go, waitFor };
}
