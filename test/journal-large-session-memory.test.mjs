// A very large session written through the journal: once it is gone (destroyed, the snapshot taken), the store must
// not keep holding memory for it. Measured in a child process started with --expose-gc, so a full GC can run before
// reading `process.memoryUsage().arrayBuffers` (the journal's write buffer is a Buffer, counted there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './fixtures/persist/helpers.mjs';

const CHILD = `
const { MemFileStore } = await import(${JSON.stringify(import.meta.resolve('express-memfilestore'))});
const call = (store, method, ...args) => new Promise((resolve, reject) => {
  store[method](...args, (err, value) => (err ? reject(err) : resolve(value)));
});
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    globalThis.gc();
  }
  return process.memoryUsage().arrayBuffers;
};
const store = new MemFileStore({ saveFile: process.argv[1], journal: process.argv[2], savePeriod: 0 });
await store.ready;
await call(store, 'set', 'small', { cookie: { maxAge: 3_600_000 }, user: 'ada' });
const before = await settle();
// A session of 20 MB (a file upload kept in the session), written to the journal, then removed.
await call(store, 'set', 'big', { cookie: { maxAge: 3_600_000 }, blob: 'x'.repeat(20_000_000) });
await call(store, 'destroy', 'big');
await store.flush();
await call(store, 'touch', 'small', { cookie: { maxAge: 3_600_000 } });
const after = await settle();
await store.close();
console.log(JSON.stringify({ before, after }));
`;

for (const journal of ['everysec', 'always']) {
  test(`journal '${journal}': a 20 MB session, once destroyed and snapshotted, leaves no buffer of its size behind`, { timeout: 30_000 }, (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD, file, journal], { env, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const { before, after } = JSON.parse(run.stdout);
    const grown = after - before;
    assert.ok(grown < 8_000_000, `buffers held after the large session is gone grew by ${(grown / 1e6).toFixed(1)} MB`);
  });
}
