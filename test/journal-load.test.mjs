// Loading the journal after a crash and rotating it under load (issue 9, items 2-4), after Redis's tests
// (tests/integration/aof.tcl, aof-multi-part.tcl, aof-race.tcl; journal-notes.md 1.8 and 8): a torn last record
// is cut and reported, and an append after that repair survives the next restart; garbage between records is
// refused; 20,000 updates while snapshots rotate the journal lose nothing; repeated snapshot failures leave
// several journals that replay, until one success removes them; in 'always' mode no callback runs before its
// record is written and synced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, fileState, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { digest } from './fixtures/faults/lib.mjs';
import { crashCopy, journalFs, journalSize, journals, open } from './fixtures/journal/helpers.mjs';

/** A store with five sessions in its journal, and the journal's size after each of them. */
async function fiveInJournal(t) {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file);
  const sizes = [];
  for (let i = 1; i <= 5; i++) {
    await call(store, 'set', `s${i}`, session({ n: i }));
    sizes.push(journalSize(journals(file)[0]));
  }
  return { file, store, sizes };
}

test('a torn last record is dropped at every cut, the file is cut back, and the load event says how many bytes', async (t) => {
  const { file, sizes } = await fiveInJournal(t);
  for (let cut = sizes[3] + 1; cut < sizes[4]; cut++) {
    const copy = crashCopy(t, file);
    const [journal] = journals(copy);
    truncateSync(journal, cut);
    const store = track(t, new MemFileStore({ saveFile: copy, savePeriod: 0 }));
    const loaded = await new Promise((resolve) => store.once('load', resolve));
    assert.deepEqual((await call(store, 'ids')).sort(), ['s1', 's2', 's3', 's4'], `cut at ${cut}`);
    assert.equal(loaded.tornBytes, cut - sizes[3], `cut at ${cut}: tornBytes`);
    assert.equal(loaded.journalRecords, 4);
    assert.equal(loaded.journalFiles, 1);
    assert.equal(store.stats.persistence.load.tornBytes, cut - sizes[3]);
    assert.equal(statSync(journal).size, sizes[3], 'the torn record was cut from the file');
    await store.close();
  }
});

test('Redis "append after loading an incomplete journal": the new record survives the next restart', async (t) => {
  const { file, sizes } = await fiveInJournal(t);
  const copy = crashCopy(t, file);
  truncateSync(journals(copy)[0], sizes[4] - 1); // the last record loses its final newline
  const repaired = await open(t, copy);
  assert.equal(repaired.stats.persistence.load.tornBytes, sizes[4] - sizes[3] - 1);
  await call(repaired, 'set', 's6', session({ n: 6 }));
  // Crash again: the new record must follow the cut, not the garbage.
  const again = await open(t, crashCopy(t, copy));
  assert.deepEqual((await call(again, 'ids')).sort(), ['s1', 's2', 's3', 's4', 's6']);
  assert.equal(again.stats.persistence.load.tornBytes, 0, 'nothing torn the second time');
  assert.equal(again.stats.persistence.load.journalRecords, 5);
});

test('a journal reopened after a crash, with space set aside after its records, is appended to right after its last record', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = await open(t, file, { journal: 'always' });
  await call(first, 'set', 'a', session({ n: 1 }));
  await call(first, 'set', 'b', session({ n: 2 }));
  const copy = crashCopy(t, file);
  const [journal] = journals(copy);
  const space = statSync(journal).size;
  assert.ok(space > journalSize(journal), 'the crash left the space set aside after the records');
  const second = await open(t, copy, { journal: 'always' });
  assert.equal(second.stats.persistence.load.tornBytes, 0, 'zeros after the records are not a torn tail');
  const end = journalSize(journal);
  await call(second, 'set', 'c', session({ n: 3 }));
  assert.equal(statSync(journal).size, space, 'written inside the space, not after it');
  assert.ok(journalSize(journal) > end && readFileSync(journal).subarray(end, end + 1)[0] !== 0, 'the record follows the last one, no gap');
  const third = await open(t, crashCopy(t, copy));
  assert.deepEqual((await call(third, 'ids')).sort(), ['a', 'b', 'c']);
  assert.equal(third.stats.persistence.load.journalRecords, 3);
  assert.equal(third.stats.persistence.load.tornBytes, 0);
});

test('garbage between records, or a flipped byte with whole records after it, is refused and left untouched', async (t) => {
  const { file, sizes } = await fiveInJournal(t);
  for (const [what, damage] of [
    ['"!!!" between records 2 and 3', (bytes) => Buffer.concat([bytes.subarray(0, sizes[1]), Buffer.from('!!!\n'), bytes.subarray(sizes[1])])],
    ['a flipped byte in record 2', (bytes) => { const b = Buffer.from(bytes); b[sizes[1] - 3] ^= 0x01; return b; }],
  ]) {
    const copy = crashCopy(t, file);
    const [journal] = journals(copy);
    writeFileSync(journal, damage(readFileSync(journal)));
    const before = fileState(journal);
    const store = track(t, new MemFileStore({ saveFile: copy, savePeriod: 0 }));
    const err = await store.ready.then(() => assert.fail(`${what}: loaded`), (e) => e);
    assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED', `${what}: ${err.stack}`);
    assert.ok(err.message.includes(journal), `${what}: the error names the journal: ${err.message}`);
    assert.deepEqual(fileState(journal), before, `${what}: the journal is not rewritten`);
  }
});

test('20,000 updates while snapshots rotate the journal: nothing lost, memory == reload (Redis aof-race)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file);
  let saves = 0;
  store.on('save', () => { saves++; });
  const flushes = [];
  let midway;
  for (let i = 0; i < 20_000; i += 100) {
    const batch = [];
    for (let j = i; j < i + 100; j++) {
      batch.push(call(store, 'set', `k${j % 700}`, session({ j })));
      if (j % 7 === 0) batch.push(call(store, 'destroy', `k${(j * 31) % 700}`));
    }
    batch.push(call(store, 'set', 'counter', session({ value: i + 100 })));
    if (i === 10_000) {
      // A snapshot started in the same turn as a hundred changes, nothing saving: the rotation must put each of
      // them in the copy or in the new journal. A crash right after it is checked below.
      await Promise.all(flushes);
      const flush = store.flush();
      await Promise.all(batch);
      await flush;
      await call(store, 'set', 'after-midway', session({ i }));
      midway = { expected: await digest(store), copy: crashCopy(t, file) };
      continue;
    }
    if (i % 1000 === 0) flushes.push(store.flush());
    await Promise.all(batch);
  }
  await Promise.all(flushes);
  for (let j = 0; j < 100; j++) await call(store, 'set', `tail-${j}`, session({ j }));
  assert.ok(saves >= 5, `snapshots ran during the load (${saves})`);
  const expected = await digest(store);
  const after = await open(t, crashCopy(t, file));
  assert.equal(await digest(after), expected, 'the reload holds exactly what memory holds, in the same order');
  assert.equal((await call(after, 'get', 'counter')).value, 20_000);
  assert.ok(after.stats.persistence.load.journalRecords > 0, 'the last changes came from the journal');
  assert.equal(journals(file).length, 1, 'absorbed journals were removed');
  const crashedMidway = await open(t, midway.copy);
  assert.equal(await digest(crashedMidway), midway.expected, 'a crash right after a snapshot taken mid-turn loses nothing');
  assert.equal(crashedMidway.stats.persistence.load.tornBytes, 0);
  assert.equal(crashedMidway.stats.persistence.load.journalRecords, 1, 'the change made after that snapshot');
});

test('repeated snapshot failures leave several journals that replay; one success removes them (Redis multiple INCR AOFs)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { fs });
  await call(store, 'set', 'first', session({ n: 0 }));
  fs.faults.open = 'ENOSPC'; // the snapshot's temp file cannot be created
  for (let i = 1; i <= 3; i++) {
    const during = call(store, 'set', `during-${i}`, session({ n: i })); // appended in the turn the snapshot rotates
    await assert.rejects(store.flush(), { code: 'ENOSPC' });
    await during;
    await call(store, 'set', `after-${i}`, session({ n: i }));
  }
  await call(store, 'destroy', 'during-2');
  assert.equal(journals(file).length, 4, 'each failed snapshot rotated to a new journal');
  const expected = await digest(store);
  const after = await open(t, crashCopy(t, file));
  assert.equal(await digest(after), expected);
  assert.equal(after.stats.persistence.load.journalFiles, 4);
  assert.equal(after.stats.persistence.load.records, 0, 'no snapshot was ever written');

  fs.faults.open = null;
  await store.flush();
  assert.deepEqual(journals(file), [store.stats.persistence.journal.file], 'the one success removed the history');
  const final = await open(t, crashCopy(t, file));
  assert.equal(await digest(final), expected);
  assert.equal(final.stats.persistence.load.journalRecords, 0);
});

test("'always' barrier (Redis 'AOF fsync always barrier issue'): no callback before its record is written and synced", async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  fs.faults.syncDelayMs = 60;
  const store = await open(t, file, { journal: 'always', fs });
  await call(store, 'set', 'warm-up', session({ n: 0 }));
  const journal = store.stats.persistence.journal.file;
  for (let round = 0; round < 5; round++) {
    const writesBefore = fs.calls.filter((c) => c.call === 'write' && c.path === journal).length;
    const syncsBefore = fs.calls.filter((c) => c.call === 'fdatasync' && c.path === journal).length;
    const checks = [];
    for (let k = 0; k < 4; k++) {
      const marker = `marker-${round}-${k}-`;
      checks.push(new Promise((resolve, reject) => {
        store.set(`r${round}-${k}`, session({ marker }), (err) => {
          try {
            assert.ifError(err);
            const text = readFileSync(journal, 'latin1');
            const end = text.indexOf(marker) + marker.length;
            assert.ok(end > marker.length, `${marker}: the record is in the file when its callback runs`);
            assert.ok(fs.synced.some((s) => s.path === journal && s.size >= end), `${marker}: a sync that began after it completed`);
            resolve();
          } catch (e) {
            reject(e);
          }
        });
      }));
    }
    assert.ok(store.stats.persistence.journal.pending >= 4, 'pending while not yet synced');
    await Promise.all(checks);
    // Group commit: the four changes of one turn share one write and one sync.
    assert.equal(fs.calls.filter((c) => c.call === 'write' && c.path === journal).length - writesBefore, 1);
    assert.equal(fs.calls.filter((c) => c.call === 'fdatasync' && c.path === journal).length - syncsBefore, 1);
  }
});

test('the journal is read before the snapshot it continues: overwrites, destroys, touches and a clear load as they were live, in LRU order', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file);
  for (const id of ['a', 'b', 'c', 'd']) await call(store, 'set', id, session({ id }));
  await store.flush();
  assert.match(readFileSync(file, 'latin1').split('\n')[0], / journal \d+ [0-9a-f]{16}$/, 'the snapshot names its journal');
  await call(store, 'set', 'b', session({ id: 'b', v: 2 }));
  await call(store, 'destroy', 'c');
  await call(store, 'set', 'e', session({ id: 'e' }));
  await call(store, 'touch', 'a', session({ id: 'a' }, 2 * 3_600_000));
  const live = await call(store, 'all');
  const again = await open(t, crashCopy(t, file));
  assert.deepEqual(await call(again, 'all'), live, 'same sessions, values and expiries as live');
  // Least recently written first: d (only in the snapshot), then the journal's order of last change.
  const bounded = await open(t, crashCopy(t, file), { max: 4 });
  await call(bounded, 'set', 'f', session({ id: 'f' }));
  assert.deepEqual((await call(bounded, 'ids')).sort(), ['a', 'b', 'e', 'f'], 'd was the least recently used');

  await call(store, 'clear');
  await call(store, 'set', 'g', session({ id: 'g' }));
  const cleared = await open(t, crashCopy(t, file));
  assert.deepEqual(await call(cleared, 'ids'), ['g'], 'nothing of the snapshot survives a journaled clear');
});

test('a damaged snapshot is named before a damaged journal that continues it, and nothing is cut', async (t) => {
  const base = join(tempDir(t), 'both.db');
  const store = await open(t, base);
  await call(store, 'set', 'x', session({ n: 1 }));
  await store.flush();
  for (const id of ['y', 'z', 'w']) await call(store, 'set', id, session({ id }));
  const refused = (copy) => assert.rejects(open(t, copy),
    (err) => err.code === 'ERR_SNAPSHOT_DAMAGED' && err.message.includes(`"${copy}"`), 'the snapshot is named');
  const damageSnapshot = (copy) => {
    const snap = readFileSync(copy);
    snap[snap.indexOf('\n') + 5] ^= 0x01; // inside the first record
    writeFileSync(copy, snap);
  };
  // A torn journal tail, which a good start would cut.
  const torn = crashCopy(t, base);
  const [tornJournal] = journals(torn);
  const cutAt = journalSize(tornJournal) - 3;
  truncateSync(tornJournal, cutAt);
  damageSnapshot(torn);
  await refused(torn);
  assert.equal(statSync(tornJournal).size, cutAt, 'the torn journal tail was not cut while the snapshot is refused');
  // A damaged journal record with whole records after it, which alone is refused naming the journal.
  const flipped = crashCopy(t, base);
  const [flippedJournal] = journals(flipped);
  const j = readFileSync(flippedJournal);
  j[j.indexOf('\n') + 3] ^= 0x01; // the first record's checksum
  writeFileSync(flippedJournal, j);
  await assert.rejects(open(t, flipped), (err) => err.message.includes(`"${flippedJournal}"`), 'alone, the journal is named');
  damageSnapshot(flipped);
  await refused(flipped);
});
