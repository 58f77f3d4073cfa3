// The lock's promises that only its own process can see (src/files/file-lock.ts): the refusal is a FileLockedError,
// release() is idempotent (a second call must not free the lock of the store that opened the file since), and a
// close leaves alone a lock file that is no longer ours. FileLock is driven directly (dist/files/file-lock.js)
// where the store never calls release() twice. Found by mutation testing (npm run mutate -- src/files/file-lock.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { tempDir, track } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { FileLock } = require('../dist/files/file-lock.js');

test('a second store on a held file is refused with a FileLockedError', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await first.ready;
  const second = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  const err = await second.ready.then(() => assert.fail('the second store opened the file'), (e) => e);
  assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED');
  assert.equal(err.name, 'FileLockedError');
  assert.ok(String(err.stack).startsWith('FileLockedError: '), err.stack);
});

test('release() twice frees the lock once: a lock taken since by another owner stays held', (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = FileLock.acquire(file);
  first.release();
  const second = FileLock.acquire(file);
  t.after(() => { second.release(); });
  first.release();
  assert.ok(existsSync(`${file}.lock`), 'the second owner\'s lock file is still there');
  assert.throws(() => FileLock.acquire(file), (err) => {
    assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED');
    assert.match(err.message, /in use by another store in this process/);
    return true;
  });
});

test('closing a store whose lock file another owner has rewritten leaves that lock file alone', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal: false }));
  await store.ready;
  // Another owner's lock (its pid, host and time), written over ours as a takeover would.
  const foreign = '999999\nanother-host\n1\n';
  writeFileSync(`${file}.lock`, foreign);
  await store.close();
  assert.equal(readFileSync(`${file}.lock`, 'utf8'), foreign);
});
