// verify, inspect and export read beside a live store (README, Command line): they peek at the snapshot's head, read the
// journals it names, then load it. A save completing in between renamed a new snapshot in, and the load opened that
// one by name: its journal pointer was not the one peeked, so the read failed with "it changed while it was read", and
// each retry could fail alike. The snapshot is now opened once, and the one peeked is the one loaded. Until now only a
// load race on a busy machine showed it (cli-read-during-saves, 1 failure in 2 runs with busy loops beside it); here
// the save's rename is made at the exact point, from the journal read's first record, with real files a store wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { recoverFiles } = require('../dist/files/recover.js');

/** The snapshot and journals in `dir` as bytes, by name. */
function filesOf(dir) {
  return new Map(readdirSync(dir).filter((n) => !n.endsWith('.lock')).map((n) => [n, readFileSync(join(dir, n))]));
}

test('a snapshot renamed in while its journals are read: the one peeked is loaded, with its journal', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal: 'always' }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.flush();
  await call(store, 'set', 'b', session({ user: 'b' }));
  const before = filesOf(dir); // a snapshot holding a, its journal holding b
  await call(store, 'set', 'c', session({ user: 'c' }));
  await store.flush();
  const next = readFileSync(file); // the next save's snapshot, naming the next journal
  await store.close();
  for (const name of readdirSync(dir)) if (!before.has(name)) renameSync(join(dir, name), join(dir, `${name}.gone`));
  for (const [name, bytes] of before) writeFileSync(join(dir, name), bytes);
  writeFileSync(`${file}.next`, next);

  const replayed = [];
  const loaded = [];
  const recovered = recoverFiles(file, {
    insert: (record) => { loaded.push(record.id); return true; },
    fromLegacy: () => undefined,
    replay: (record) => {
      // The live store's save completes now: its new snapshot is renamed in.
      if (replayed.length === 0) renameSync(`${file}.next`, file);
      replayed.push(record.id);
    },
    replayed: () => undefined,
    reset: () => undefined,
    journalFirst: () => () => false,
  }, { repair: false, onDamaged: 'error', now: Date.now() });
  assert.deepEqual({ loaded, replayed }, { loaded: ['a'], replayed: ['b'] });
  assert.equal(recovered.journal.records, 1);
});
