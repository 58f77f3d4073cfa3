// What a start reports and touches when it moves damaged files aside, and the checks of the journal-first load
// (src/files/recover.ts): the warning names every file moved, the 'load' figures describe the empty start, nothing
// is deleted, a journal without its snapshot is moved alone. A snapshot replaced between reading its journal
// pointer and loading it is refused: recoverFiles (dist/files/recover.js) is called directly, with a replay sink
// that rewrites the snapshot while the journal is read, the only way to make that race happen at a known instant.
// Found by mutation testing (npm run mutate -- src/files/recover.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, captureWarnings, HOUR, sha256, tempDir, track } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { encodeJournalHeader, encodeJournalRecord, recordBound, saltOf } = require('../dist/files/journal-format.js');
const { recoverFiles } = require('../dist/files/recover.js');

const NOW = Date.UTC(2030, 0, 1);
const STAMP = '2030-01-01T00-00-00-000Z';
const TOKEN = '0123456789abcdef';
const OTHER_TOKEN = 'fedcba9876543210';
const VALUE = '{"cookie":{}}';

/** A snapshot holding session `a`: version 2 handing over to journal `gen` with `token`, or version 1. */
function snapshot({ gen, token = TOKEN } = {}) {
  const header = gen === undefined
    ? 'express-memfilestore-snapshot 1 2030-01-01T00:00:00.000Z\n'
    : `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal ${gen} ${token}\n`;
  const body = Buffer.from(`${header}r ${NOW + HOUR} 1 ${VALUE.length}\na\n${VALUE}\n`);
  return Buffer.concat([body, Buffer.from(`end 1 ${sha256(body)}\n`)]);
}

/** A journal: its header then records `[op, id]` (op 's' sets the session, 'd' deletes it). */
function journal({ gen = 1, token = TOKEN, after = 's:-', records = [['s', 'j']] } = {}) {
  const parts = [Buffer.from(encodeJournalHeader(gen, token, after, NOW), 'latin1')];
  for (const [seq, [op, id]] of records.entries()) {
    const value = op === 'd' ? '' : VALUE;
    const out = Buffer.alloc(recordBound(id, value));
    parts.push(out.subarray(0, encodeJournalRecord(out, 0, saltOf(token), seq + 1, op, id, op === 'd' ? 0 : NOW + HOUR, value)));
  }
  return Buffer.concat(parts);
}

/** The store's fs seam with the real calls, recording every file the store deletes. */
function unlinkRecorder() {
  const unlinked = [];
  return {
    unlinked,
    seam: {
      open: fs.promises.open, rename: fs.promises.rename, unlink: async (path) => { unlinked.push(String(path)); await fs.promises.unlink(path); },
      unlinkSync: (path) => { unlinked.push(String(path)); fs.unlinkSync(path); },
    },
  };
}

/** Lets process.emitWarning's next-tick emit run: every warning of the start is then in `warnings`. */
const warningsEmitted = () => new Promise((resolve) => { setImmediate(resolve); });

function open(t, saveFile, options = {}) {
  return track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW, ...options }));
}

test('move-aside of a journal whose snapshot is missing: the journal alone is moved, the warning says "it"', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const warnings = captureWarnings(t);
  writeFileSync(`${saveFile}.journal.1`, journal({ after: `s:${'e'.repeat(64)}` }));
  const store = open(t, saveFile, { onDamagedFile: 'move-aside' });
  await store.ready;
  const aside = `${saveFile}.journal.1.corrupt-${STAMP}`;
  assert.ok(existsSync(aside), 'the journal was moved aside');
  assert.equal(existsSync(`${saveFile}.journal.1`), false);
  const load = store.stats.persistence.load;
  assert.equal(load.movedAside, aside);
  // The empty start is described like a start without a file.
  assert.equal(load.format, 'none');
  assert.equal(load.records, 0);
  assert.equal(load.bytes, 0);
  assert.equal(load.journalFiles, 0);
  assert.deepEqual(await call(store, 'ids'), []);
  await warningsEmitted();
  const moved = warnings.filter((w) => w.name === 'MemFileStoreWarning');
  assert.equal(moved.length, 1, warnings.map((w) => w.message).join('\n'));
  assert.ok(moved[0].message.endsWith(`: moved it to "${aside}" and started empty`), moved[0].message);
});

test('move-aside of a snapshot and its journal: the warning names both, quoted and comma-separated; nothing is deleted', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const warnings = captureWarnings(t);
  writeFileSync(saveFile, snapshot({ gen: 1 }));
  // A journal of another copy of these files (its token differs from the one the snapshot names): refused.
  writeFileSync(`${saveFile}.journal.1`, journal({ token: OTHER_TOKEN }));
  const { unlinked, seam } = unlinkRecorder();
  const store = open(t, saveFile, { onDamagedFile: 'move-aside', fs: seam });
  await store.ready;
  const asides = [`${saveFile}.corrupt-${STAMP}`, `${saveFile}.journal.1.corrupt-${STAMP}`];
  assert.equal(store.stats.persistence.load.movedAside, asides[0]);
  await warningsEmitted();
  const message = warnings.find((w) => w.name === 'MemFileStoreWarning')?.message ?? '';
  assert.ok(message.endsWith(`: moved 2 files to "${asides[0]}", "${asides[1]}" and started empty`), message);
  assert.deepEqual(unlinked, [], 'a start that moved files aside deletes none');
  for (const aside of asides) assert.ok(existsSync(aside), aside);
  assert.deepEqual(await call(store, 'ids'), []);
});

test('a version 2 snapshot and its journal load with nothing moved aside', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  writeFileSync(saveFile, snapshot({ gen: 1 }));
  writeFileSync(`${saveFile}.journal.1`, journal({ records: [['s', 'j'], ['d', 'a']] }));
  const store = open(t, saveFile);
  await store.ready;
  const load = store.stats.persistence.load;
  assert.equal(load.movedAside, undefined);
  assert.equal(load.format, 'v2');
  assert.equal(load.journalRecords, 2);
  assert.deepEqual(await call(store, 'ids'), ['j']);
  assert.deepEqual(readdirSync(dir).filter((name) => name.includes('.corrupt-')), []);
});

/** Sinks that load into a map, with the journal read first, and `during` run at the first journal record. */
function sinks(during = () => {}) {
  const sessions = new Map();
  let first = true;
  return {
    sessions,
    insert: (record) => { sessions.set(record.id, record.value); return true; },
    fromLegacy: () => undefined,
    replay: (record) => {
      if (first) during();
      first = false;
      sessions.set(record.id, record.value);
    },
    replayed: () => {},
    reset: () => { sessions.clear(); },
    journalFirst: () => () => false,
  };
}

test('a snapshot replaced while its journal is read is refused, whatever changed in its journal pointer', (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const options = { repair: false, onDamaged: 'error', now: NOW };
  const replacements = [
    ['another generation, same token', snapshot({ gen: 2 })],
    ['the same generation, another token', snapshot({ gen: 1, token: OTHER_TOKEN })],
    ['a version 1 snapshot without a journal pointer', snapshot()],
  ];
  for (const [what, replacement] of replacements) {
    writeFileSync(saveFile, snapshot({ gen: 1 }));
    writeFileSync(`${saveFile}.journal.1`, journal());
    assert.throws(() => recoverFiles(saveFile, sinks(() => { writeFileSync(saveFile, replacement); }), options), (err) => {
      assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED', `${what}: ${err.stack}`);
      assert.ok(err.message.includes(`"${saveFile}": it changed while it was read (is another process writing it?)`), `${what}: ${err.message}`);
      return true;
    }, what);
  }
  // The same files left alone load: the refusals above are for the change only.
  writeFileSync(saveFile, snapshot({ gen: 1 }));
  const loaded = sinks();
  const { snapshot: result } = recoverFiles(saveFile, loaded, options);
  assert.deepEqual(result.journal, { gen: 1, token: TOKEN });
  assert.deepEqual([...loaded.sessions.keys()].sort(), ['a', 'j']);
});

test('a journal-first read without repair leaves a torn journal tail in place; with repair it is cut', (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const whole = journal({ records: [['s', 'j'], ['s', 'k']] });
  const torn = whole.subarray(0, whole.length - 5);
  writeFileSync(saveFile, snapshot({ gen: 1 }));
  writeFileSync(`${saveFile}.journal.1`, torn);
  const read = recoverFiles(saveFile, sinks(), { repair: false, onDamaged: 'error', now: NOW });
  assert.ok(read.journal.tornBytes > 0);
  assert.equal(statSync(`${saveFile}.journal.1`).size, torn.length, 'reading only changed nothing');
  const repaired = recoverFiles(saveFile, sinks(), { repair: true, onDamaged: 'error', now: NOW });
  assert.equal(statSync(`${saveFile}.journal.1`).size, torn.length - repaired.journal.tornBytes, 'the torn record was cut');
});
