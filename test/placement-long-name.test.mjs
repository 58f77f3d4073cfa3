// A saveFile whose name or path is near the system's limits (255 bytes a name, 4096 a path on Linux): the store makes
// longer names beside it, `<name>.tmp-<pid>-<12 hex digits>` (up to 25 bytes more) at every save and
// `<name>.journal.<n>`. A name the system takes could start, then fail every save with ENAMETOOLONG (and close()
// reject, the journal growing), or lose its journal: the start must refuse it, say so and create nothing. Names are
// counted in bytes (UTF-8), not characters; a name with spaces and non-ASCII characters within the limit works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';

async function refusal(store) {
  return store.ready.then(() => assert.fail('ready resolved'), (err) => err);
}

for (const [what, name] of [['231 ASCII bytes', 'a'.repeat(231)], ['116 characters, 232 bytes', 'é'.repeat(116)]]) {
  test(`a saveFile name of ${what}, too long for the files beside it, is refused at start, saying how long it may be`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, name);
    const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 20 }));
    const errors = [];
    store.on('error', (err) => errors.push(err));
    const err = await refusal(store);
    assert.equal(err.code, 'ENAMETOOLONG', err.stack);
    assert.ok(err.message.includes(`"${file}"`), `names the file: ${err.message}`);
    assert.match(err.message, /at most 230 bytes/, err.message);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(errors, []);
    assert.deepEqual(readdirSync(dir), [], 'nothing is created');
  });
}

for (const [what, name] of [['230 ASCII bytes', 'a'.repeat(230)], ['115 characters, 230 bytes', 'é'.repeat(115)],
  ['spaces and non-ASCII characters', 'sessions de l’été 🍦 2026.db']]) {
  test(`a saveFile name of ${what} saves, journals and restarts`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, name);
    const store = new MemFileStore({ saveFile: file, savePeriod: 0 });
    await store.ready;
    await call(store, 'set', 'a', session({ user: 'ann' }));
    await store.flush();
    await call(store, 'set', 'b', session({ user: 'bob' }));
    assert.deepEqual(readdirSync(dir).sort(), [name, `${name}.journal.2`, `${name}.lock`].sort());
    await store.close();
    const third = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
    await third.ready;
    assert.deepEqual((await call(third, 'ids')).sort(), ['a', 'b']);
  });
}

test('a saveFile path too long for the files beside it is refused at start, saying how long it may be', async (t) => {
  if (process.platform !== 'linux') return t.skip('the 4096-byte path limit is Linux\'s');
  let dir = tempDir(t);
  const segment = 'd'.repeat(200);
  while (Buffer.byteLength(dir) + 1 + segment.length < 4095 - 40) dir = join(dir, segment);
  mkdirSync(dir, { recursive: true });
  // 4071 bytes: the system takes the path (up to 4095), but not the temp file's (up to 25 bytes more).
  const file = join(dir, 'f'.repeat(4071 - Buffer.byteLength(dir) - 1));
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 20 }));
  const err = await refusal(store);
  assert.equal(err.code, 'ENAMETOOLONG', err.stack);
  assert.match(err.message, /at most 4070 bytes/, err.message);
  assert.deepEqual(readdirSync(dir), [], 'nothing is created');
});
