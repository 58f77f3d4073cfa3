// After a snapshot is durable, the journals it absorbed are removed (persistence.ts). Listing them reads each one's
// header; when that fails (here: a directory named like a journal, created under the running store; in the field,
// a process out of descriptors), the save was reported as failed with "the previous snapshot is intact", though the
// new snapshot was in place and durable. The removal is best effort: the save is reported as done, and the next
// start removes absorbed journals anyway (the same state a crash between the rename and the removal leaves).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { open } from './fixtures/journal/helpers.mjs';

test('a snapshot whose absorbed journals cannot be listed is still reported as saved, and a restart has everything', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file);
  const errors = [];
  store.on('error', (err) => { errors.push(err); });
  await call(store, 'set', 'a', session({ n: 1 }));
  await store.flush();

  // Not a journal a start would accept either: removed before the restart below.
  const odd = `${file}.journal.0`;
  mkdirSync(odd);
  await call(store, 'set', 'b', session({ n: 2 }));
  await store.flush();
  assert.deepEqual(errors.map((err) => err.message), []);
  assert.equal(store.stats.persistence.lastSave.outcome, 'ok');
  assert.equal(store.stats.persistence.lastSave.sessions, 2);

  rmdirSync(odd);
  await store.close();
  const restarted = await open(t, file);
  assert.deepEqual((await call(restarted, 'ids')).sort(), ['a', 'b']);
});
