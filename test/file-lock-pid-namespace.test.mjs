// The lock across pid namespaces: a store in a container (its own pid namespace) and a store outside it, or in another
// container, on one volume under one hostname (host networking shares the host's name). A pid written by one namespace
// names another process, or none, in the other, and so does its start time: neither can show that the owner is gone.
// And in a pid namespace without its own /proc, node is pid 1 at every run, and /proc cannot tell the runs apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, utimesSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, decodeSnapshot, session, tempDir, track } from './fixtures/persist/helpers.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/persist/child.mjs', import.meta.url));
const unshare = ['--pid', '--fork', '--mount-proc', '--kill-child'];
const canUnshare = process.platform === 'linux' && spawnSync('unshare', [...unshare, 'true']).status === 0;

/** Runs the child's `hold` role as pid 1 of a new pid namespace (as a container's entry point); resolves its pid there. */
async function holdInNamespace(t, file) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const proc = spawn('unshare', [...unshare, process.execPath, CHILD, 'hold', file], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => proc.kill('SIGKILL'));
  for await (const line of createInterface({ input: proc.stdout })) {
    const m = /^ready (\d+)$/.exec(line);
    if (m) return m[1];
    throw new Error(`the store in the namespace did not start: ${line}`);
  }
  await once(proc, 'close');
  throw new Error('the store in the namespace exited');
}

test('a lock held by a live store in another pid namespace, same host name, is not taken over', { skip: !canUnshare && 'needs unshare --pid (root, Linux)' }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const pid = await holdInNamespace(t, file);
  assert.equal(pid, '1', 'the store runs as pid 1 of its namespace, as a container entry point');
  assert.equal(readFileSync(`${file}.lock`, 'utf8').split('\n')[0], '1');

  // Here, pid 1 is another process (init), started at another time: that does not make the lock stale.
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  const err = await store.ready.then(() => undefined, (e) => e);
  if (err === undefined) {
    await call(store, 'set', 'a', session({ user: 'alice' }));
    await store.flush();
    assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ['a']);
  }
  assert.equal(err?.code, 'ERR_SNAPSHOT_LOCKED', 'a second store took over the live store\'s lock: both now write the file');
});

// A lock naming our own pid, written by a thread whose end /proc cannot show, is a live worker of this process or a
// previous run's. A worker's store killed with its process left such a lock, and every later run was refused, "until
// the process ends", for good.
const RUN = fileURLToPath(new URL('./fixtures/threads/pid-namespace-run.mjs', import.meta.url));
// Without --mount-proc: /proc stays the parent namespace's, so it cannot tell this run's threads or start time.
const UNSHARE = ['--pid', '--fork', '--kill-child'];

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

test("a lock left by a killed run's worker thread, same pid, no /proc to tell: taken over once not refreshed", { skip: !canUnshare && 'needs unshare --pid (root, Linux)' }, async (t) => {
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
