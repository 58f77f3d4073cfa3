// README, "The journal": "Reads are not journaled: they only reorder the LRU, so after a crash sessions come back in
// the order of the last snapshot, with the ones changed since then as most recently used." Played with a real process
// killed with SIGKILL, in each journal mode, and a fresh store reading what it left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MemFileStore } from 'express-memfilestore';
import { call, tempDir, track } from './fixtures/persist/helpers.mjs';

const CHILD = `
import { MemFileStore } from 'express-memfilestore';
const store = new MemFileStore({ saveFile: process.argv[1], savePeriod: 0, journal: process.argv[2] });
const call = (method, ...args) => new Promise((resolve, reject) => store[method](...args, (err, v) => (err ? reject(err) : resolve(v))));
const session = (user) => ({ cookie: { expires: new Date(Date.now() + 3_600_000).toISOString(), originalMaxAge: 3_600_000 }, user });
await store.ready;
for (const id of ['A', 'B', 'C']) await call('set', id, session(id));
await store.flush(); // the snapshot: A, B, C from least to most recently used
await call('get', 'A'); // a read: A becomes the most recently used, in memory only
await call('set', 'D', session('D'));
await call('touch', 'B', session('B'));
// Every change handed to the OS (with 'always', also synced) before the parent kills: what the README promises keeps.
while (store.stats.persistence.journal.pending > 0) await new Promise((resolve) => setImmediate(resolve));
console.log('memory ' + (await call('ids')).join(','));
`;

for (const mode of ['everysec', 'always']) {
  test(`${mode}: after a kill -9, the snapshot's order, then the changes since as most recently used; the read is not kept`, { timeout: 30_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, file, mode],
      { cwd: new URL('..', import.meta.url), env, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'close');
    t.after(() => child.kill('SIGKILL'));
    const [line] = await once(createInterface({ input: child.stdout }), 'line');
    child.kill('SIGKILL');
    await exited;
    assert.equal(line, 'memory B,D,A,C', 'in memory the read made A more recent than C');

    const store = track(t, new MemFileStore({ saveFile: file, journal: mode }));
    await store.ready;
    assert.deepEqual(await call(store, 'ids'), ['B', 'D', 'C', 'A'], 'most recently used first');
    assert.equal(store.stats.persistence.load.journalRecords, 2, 'the set and the touch; no record for the read');
  });
}
