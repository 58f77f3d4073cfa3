// A journal beside the snapshot that is a symbolic link (left by anyone who can write the directory, or restored from
// an archive): the start replayed it and the store went on appending the new sessions' records (ids are credentials)
// to the file it points to, which may be anyone's. Journals are only ever created by the store, in its directory: a
// linked one is refused, as the saveFile itself is, and the file it points to is never written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { cutTornTail } from '../dist/files/journal-reader.js';
import { reopenJournal } from '../dist/files/journal-file.js';

test('a journal that is a symbolic link is refused at start; its target is never written', async (t) => {
  const source = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: source, savePeriod: 0, journal: 'always' }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.flush(); // a snapshot naming its journal
  await call(store, 'set', 'b', session({ user: 'b' }));
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  for (const name of readdirSync(join(source, '..'))) {
    if (name === 'sessions.db') writeFileSync(file, readFileSync(source), { mode: 0o600 });
    if (!name.startsWith('sessions.db.journal.')) continue;
    writeFileSync(join(elsewhere, name), readFileSync(join(source, '..', name)), { mode: 0o600 });
    symlinkSync(join(elsewhere, name), join(dir, name));
  }
  await store.close();
  const targets = readdirSync(elsewhere);
  assert.equal(targets.length, 1);
  const before = readFileSync(join(elsewhere, targets[0]));

  const other = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal: 'always' }));
  const err = await other.ready.then(async () => {
    await call(other, 'set', 'c', session({ user: 'c' }));
    return undefined;
  }, (e) => e);
  await other.close().catch(() => undefined);
  assert.ok(readFileSync(join(elsewhere, targets[0])).equals(before), 'the file the link points to was written');
  assert.equal(err?.code, 'ERR_SNAPSHOT_DAMAGED', err?.message ?? 'the linked journal was accepted');
  assert.match(err.message, /symbolic link/);
});

// The start read the journals refusing links, then opens one again to write: to cut a torn tail and to append after
// its last record. A link planted at its name in the instant between (only someone who can write the directory can)
// must be refused there too: followed, the cut truncated, and the appends went into, whatever file it named.
function plantedLink(t) {
  const dir = tempDir(t);
  const target = join(dir, 'someone-elses-file');
  writeFileSync(target, 'contents that must stay whole\n', { mode: 0o644 });
  const journal = join(dir, 'sessions.json.journal.1');
  symlinkSync(target, journal);
  return { target, journal };
}

test('cutting a torn tail refuses a link planted at the journal\'s name, and leaves its target whole', (t) => {
  const { target, journal } = plantedLink(t);
  assert.throws(() => cutTornTail({ tornAt: { path: journal, offset: 3 } }), { code: 'ELOOP' });
  assert.equal(readFileSync(target, 'utf8'), 'contents that must stay whole\n');
});

test('reopening the last journal to append refuses a link planted at its name, and leaves its target alone', (t) => {
  const { target, journal } = plantedLink(t);
  const tail = { gen: 1, token: '0'.repeat(16), path: journal, size: 3, allocated: 3, seq: 1 };
  assert.throws(() => reopenJournal(fs, tail), { code: 'ELOOP' });
  assert.equal(readFileSync(target, 'utf8'), 'contents that must stay whole\n');
  assert.equal(statSync(target).mode & 0o777, 0o644, 'its mode is not changed either');
});
