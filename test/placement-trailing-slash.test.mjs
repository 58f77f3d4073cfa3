// A saveFile ending in a slash names a directory (a setting meant for one, such as `SESSION_DIR=./data/`): 1.x failed
// at its first save (EISDIR), 2.x wrote its snapshot, journal and lock beside the directory meant, as `data`,
// `data.journal.1` and `data.lock`, and a directory created there later made the store unusable. The start must refuse
// it, as it refuses a directory, and create nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';

test('a saveFile ending in a slash is refused at start as a directory, and nothing is created', async (t) => {
  const dir = tempDir(t);
  const file = `${join(dir, 'data')}/`;
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  const err = await store.ready.then(() => assert.fail('ready resolved'), (e) => e);
  assert.equal(err.code, 'EISDIR', err.stack);
  assert.ok(err.message.includes(`"${file}"`), err.message);
  assert.match(err.message, /name the file in it/, err.message);
  await assert.rejects(call(store, 'set', 'a', session({ user: 'ann' })), { code: 'EISDIR' });
  await store.close();
  assert.deepEqual(readdirSync(dir), [], 'nothing is created');
});
