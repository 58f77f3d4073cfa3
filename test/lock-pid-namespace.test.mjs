// A lock naming our own pid, written by a thread whose end /proc cannot show, is a live worker of this process or a
// previous run's: in a pid namespace node is pid 1 at every run (a container's entry point), and where /proc is not
// that namespace's (or absent) the boot and start time cannot tell the runs apart. A worker's store killed with its
// process left such a lock, and every later run was refused, "until the process ends", for good. Real runs in real pid
// namespaces (util-linux unshare), a real SIGKILL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/persist/helpers.mjs';

const RUN = fileURLToPath(new URL('./fixtures/threads/pid-namespace-run.mjs', import.meta.url));
const UNSHARE = ['--pid', '--fork', '--kill-child'];
const probe = process.platform === 'linux' ? spawnSync('unshare', [...UNSHARE, 'true']) : undefined;
const skip = probe?.status === 0 ? false : 'needs Linux and unshare --pid (root or user namespaces)';

/** The first line a run prints. */
async function firstLine(child) {
  for await (const line of createInterface({ input: child.stdout })) return line;
  return '';
}

/** A run in a fresh pid namespace, to its end; its JSON outcome. */
function mainRun(file) {
  const result = spawnSync('unshare', [...UNSHARE, process.execPath, RUN, file, 'main'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

test("a lock left by a killed run's worker thread, same pid, no /proc to tell: taken over once not refreshed", { skip }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = spawn('unshare', [...UNSHARE, process.execPath, RUN, file, 'worker'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => first.once('exit', resolve));
  t.after(() => first.kill('SIGKILL'));
  assert.equal(await firstLine(first), 'held 1', 'the worker holds the file, in a process that is pid 1');
  first.kill('SIGKILL'); // unshare --kill-child: its child, node, is killed with it
  await exited;

  const refused = mainRun(file);
  assert.equal(refused.pid, 1, 'the next run has the same pid');
  // Within the 30 s a live worker refreshes its lock in, the run is refused, saying when that ends.
  assert.equal(refused.code, 'ERR_SNAPSHOT_LOCKED');
  assert.doesNotMatch(refused.message, /until the process ends/, 'a previous run is refused for good');

  // The next restart comes 30 s after the last refresh of the dead worker's lock.
  const past = new Date(Date.now() - 60_000);
  utimesSync(`${file}.lock`, past, past);
  const taken = mainRun(file);
  assert.deepEqual(taken, { pid: 1, ids: ['sid'] }, "the lock is taken over and the worker's journal replayed");
});
