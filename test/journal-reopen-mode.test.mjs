// The journal a killed store left is reopened at the next start, and the new changes are appended to it. It was
// reopened as it was found: a journal whose mode had been loosened (restored from a backup with cp or tar under umask
// 022, say: 0644) went on receiving every new session, readable by every user, although the README gives journals
// mode 0600. A reopened journal is now made 0600 before anything is appended to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { runNode } from './fixtures/faults/lib.mjs';

const KILLED_AFTER_A_SET = `
  const { MemFileStore } = require('./dist/index.js');
  const store = new MemFileStore({ saveFile: process.argv[1], savePeriod: 0, journal: 'always' });
  const cookie = { originalMaxAge: 3600000, maxAge: 3600000 };
  store.set('a', { cookie, user: 'a' }, (err) => {
    if (err) throw err;
    process.kill(process.pid, 'SIGKILL');
  });
`;

test('a journal left by a killed store with mode 0644 is 0600 once reopened, before the next change is appended', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const killed = await runNode(['-e', KILLED_AFTER_A_SET, file]);
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const journals = readdirSync(dir).filter((name) => name.startsWith('sessions.db.journal.'));
  assert.equal(journals.length, 1, readdirSync(dir).join(' '));
  const journal = join(dir, journals[0]);
  chmodSync(journal, 0o644);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal: 'always' }));
  await store.ready;
  assert.equal(store.stats.persistence.journal.file, journal, 'the journal left was reopened, not replaced');
  await call(store, 'set', 'b', session({ user: 'b' }));
  assert.equal((statSync(journal).mode & 0o777).toString(8), '600');
  assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'b']);
});
