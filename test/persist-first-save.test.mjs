// What the first save after a start writes: what the load brought in from elsewhere than the snapshot (journal
// records, journals a journal-less store must absorb) makes the store due for a save before any change; a load
// with nothing of the kind leaves nothing to save. And close() is one final save, whatever it writes to the journal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { call, countEvents, decodeSnapshot, fileState, HOUR, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, journals, open } from './fixtures/journal/helpers.mjs';

const header = (file) => readFileSync(file, 'latin1').split('\n')[0];
const ids = (file) => decodeSnapshot(readFileSync(file)).records.map((r) => r.id);

/** The files a journal store leaves when killed right after a snapshot: the snapshot names an empty journal. */
async function killedAfterSnapshot(t) {
  const running = await open(t, join(tempDir(t), 'sessions.db'));
  await call(running, 'set', 'a', session({}));
  await running.flush();
  const file = crashCopy(t, running.stats.persistence.file);
  assert.match(header(file), / journal \d+ [0-9a-f]{16}$/);
  assert.equal(journals(file).length, 1);
  return file;
}

test('journal: false on files a journal store left: the first flush() absorbs the journal, a snapshot that stands alone', async (t) => {
  const file = await killedAfterSnapshot(t);
  const store = await open(t, file, { journal: false });
  assert.equal(store.stats.persistence.load.journalFiles, 1);
  assert.equal(store.stats.persistence.changesSinceSave, 1, 'due before any change');
  await store.flush();
  assert.match(header(file), / nojournal( \d+)?$/);
  assert.deepEqual(journals(file), [], 'no journal left beside a store that keeps none');
  assert.deepEqual(ids(file), ['a']);
});

test('a start with nothing to absorb has nothing to save: flush() rewrites nothing, with or without the journal', async (t) => {
  // The journal on, an empty journal beside the snapshot: it is the journal the store goes on appending to.
  const withJournal = await killedAfterSnapshot(t);
  const before = fileState(withJournal);
  const store = await open(t, withJournal);
  assert.equal(store.stats.persistence.changesSinceSave, 0);
  await store.flush();
  assert.deepEqual(fileState(withJournal), before);
  // Nor does it count as a save: no save has happened in this process.
  assert.equal(store.stats.persistence.lastSave, undefined);
  assert.equal(store.stats.persistence.lastSuccessAt, undefined);

  // journal: false, no journal beside.
  const plain = join(tempDir(t), 'plain.db');
  const first = await open(t, plain, { journal: false });
  await call(first, 'set', 'a', session({}));
  await first.close();
  const closed = fileState(plain);
  const again = await open(t, plain, { journal: false });
  assert.equal(again.stats.persistence.changesSinceSave, 0);
  await again.flush();
  await again.close();
  assert.deepEqual(fileState(plain), closed, 'neither flush() nor close() rewrote it');
});

test('close() absorbs a journal that continues a standalone snapshot, even one without records', async (t) => {
  const running = await open(t, join(tempDir(t), 'sessions.db'));
  await call(running, 'set', 'a', session({}));
  await running.close(); // a snapshot that stands alone
  const restarted = await open(t, running.stats.persistence.file);
  await call(restarted, 'set', 'b', session({})); // creates a journal continuing it
  const file = crashCopy(t, running.stats.persistence.file);
  // Killed after the journal's creation, before its first record reached it: a header, no record.
  const [journal] = journals(file);
  const headerOnly = readFileSync(journal, 'latin1').split('\n')[0].length + 1;
  truncateSync(journal, headerOnly);

  const store = await open(t, file);
  assert.deepEqual([store.stats.persistence.load.journalFiles, store.stats.persistence.load.journalRecords], [1, 0]);
  assert.equal(store.stats.persistence.changesSinceSave, 0);
  await store.close();
  assert.match(header(file), / nojournal( \d+)?$/);
  assert.deepEqual(journals(file), [], 'the file stands alone after close()');
});

test('journal records replayed at a start are due: the first flush() writes them into the snapshot and removes their journal', async (t) => {
  const running = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'always' });
  await call(running, 'set', 'a', session({}));
  await running.flush();
  await call(running, 'set', 'b', session({}));
  const file = crashCopy(t, running.stats.persistence.file);
  const [replayed] = journals(file);
  const store = await open(t, file);
  assert.equal(store.stats.persistence.load.journalRecords, 1);
  assert.equal(store.stats.persistence.changesSinceSave, 1, 'due before any change');
  await store.flush();
  assert.deepEqual(ids(file), ['a', 'b']);
  assert.ok(!journals(file).includes(replayed), 'the journal the snapshot absorbed is removed');
});

test('close() right after a turn that filled the journal past its limit: one final save, no compaction', { timeout: 60_000 }, async (t) => {
  const store = await open(t, join(tempDir(t), 'sessions.db'));
  const saves = countEvents(store, 'save');
  const big = 'x'.repeat(100 * 1024);
  // One turn: the journal writes these 9 MB (past the 8 MiB minimum) only when close() flushes it.
  for (let i = 0; i < 90; i++) store.set(`s${i}`, session({ big }, HOUR));
  await store.close();
  assert.equal(store.stats.persistence.compactions, 0);
  assert.equal(saves.length, 1);
  const file = store.stats.persistence.file;
  assert.match(header(file), / nojournal( \d+)?$/);
  assert.equal(ids(file).length, 90);
  assert.deepEqual(journals(file), []);
});
