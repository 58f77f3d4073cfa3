// memorystore exposed its cache as `store.store`, and its users delete sessions there (lru-cache 4's `del`, now
// `delete`; `reset`, now `clear`), e.g. to log a user out everywhere. The README lists those renames in
// "Migrating". A session deleted that way must stay deleted after a crash: the deletion is journaled as a destroy is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';

const CHILD = `
const { MemFileStore } = await import(${JSON.stringify(import.meta.resolve('express-memfilestore'))});
const call = (store, method, ...args) => new Promise((resolve, reject) => {
  store[method](...args, (err, value) => (err ? reject(err) : resolve(value)));
});
const [file, journal, how] = process.argv.slice(1);
const store = new MemFileStore({ saveFile: file, journal, savePeriod: 0 });
await store.ready;
const session = (user) => ({ cookie: { originalMaxAge: 3_600_000, maxAge: 3_600_000, httpOnly: true, path: '/' }, user });
await call(store, 'set', 'alice', session('alice'));
await call(store, 'set', 'bob', session('bob'));
if (how === 'delete') store.store.delete('alice');
else store.store.clear();
// Longer than the 'everysec' sync period: whatever the journal holds is on disk.
await new Promise((resolve) => setTimeout(resolve, 1500));
process.kill(process.pid, 'SIGKILL');
`;

for (const journal of ['everysec', 'always']) {
  for (const [how, expected] of [['delete', ['bob']], ['clear', []]]) {
    test(`journal '${journal}': store.store.${how}() then kill -9: the deleted sessions stay deleted`, { timeout: 30_000 }, async (t) => {
      const file = join(tempDir(t), 'sessions.db');
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, file, journal, how], { env, encoding: 'utf8' });
      assert.equal(run.signal, 'SIGKILL', run.stderr);
      const store = track(t, new MemFileStore({ saveFile: file, journal }));
      await store.ready;
      assert.deepEqual(await call(store, 'ids'), expected);
      assert.equal(await call(store, 'get', 'alice'), undefined, 'the deleted session is not served again');
      if (expected.length > 0) assert.deepEqual(await call(store, 'get', 'bob'), session({ user: 'bob' }, 3_600_000));
    });
  }
}
