// The lock across pid namespaces: a store in a container (its own pid namespace) and a store outside it, or in another
// container, on one volume under one hostname (host networking shares the host's name). A pid written by one namespace
// names another process, or none, in the other, and so does its start time: neither can show that the owner is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
