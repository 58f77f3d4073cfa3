// Crash consistency at the file-system level (issue 9, item 6): a scripted workload runs against a store whose
// `fs` is test/fixtures/crash-fs.mjs, which records every write, sync, create, rename and unlink. Then a power
// cut is simulated before EVERY one of those steps (of the appends, of the snapshots with their rotations, and of
// close), in every variant the fixture knows (unsynced data dropped, kept in part, torn, zeroed, garbage; unsynced
// directory operations dropped or kept in order). Each crash state is written to a real directory and loaded by
// the real store, which must start, and hold a state the store went through:
// - 'always': the workload applied to a prefix of its changes that contains every change whose callback fired;
// - 'everysec': a prefix that contains at least every change whose records a completed fdatasync covered (or a
//   durable snapshot contains). Prefix: no holes, no destroyed session brought back.
//
// Crash points of a snapshot with its rotation (persistence.ts, journal-writer.ts), old snapshot S naming journal
// N, new snapshot S' naming N+1. "Reload" is what a start finds after a power cut at that instant; every row is
// explored below with each variant.
//
// | # | crash just before / during …                     | what the disk may hold                                  | reload                                   |
// |---|--------------------------------------------------|---------------------------------------------------------|------------------------------------------|
// | 1 | create N+1 ('wx')                                | S, N (its tail maybe unsynced)                          | S + N: everything N's last sync covered  |
// | 2 | header write of N+1                              | + maybe an empty N+1 (if the create reached the disk)  | N+1 without a whole header is ignored     |
// | 3 | fdatasync of N+1's header                        | + N+1 with a torn, zero or garbage header              | ignored (holds no records)               |
// | 4 | directory fsync (N+1's name)                     | + N+1 with its header, or no N+1                        | S + N; N+1 header-only: empty newest     |
// | 5 | switch: copy of memory + appends to N+1 (memory) | nothing new on disk; later records held for N+1         | S + N                                    |
// | 6 | old journal N's final fdatasync                  | N's tail up to its last sync                            | S + N (torn tail of N cut)               |
// | 7 | held records written to N+1 (after step 6)       | N complete; N+1's records maybe torn                    | S + N + N+1 prefix                       |
// | 8 | temp snapshot write(s)                           | + a partial temp file (removed at start)               | S + N + N+1                              |
// | 9 | temp fsync                                       | + complete but maybe unsynced temp                      | S + N + N+1                              |
// |10 | rename temp -> saveFile                          | rename maybe on disk (without the dir fsync)           | S + N + N+1, or S' + N+1 (N is stale)   |
// |11 | directory fsync                                  | as 10                                                   | as 10: both chains replay completely     |
// |12 | unlink of journals < N+1                         | S' + N+1 (+ N, unlinked or not)                         | S' + N+1; N is stale and removed         |
// A snapshot taken while the journal appends go to holds no record (created by a rotation, header and name synced)
// names that journal instead of a new one: rows 1-7 do not happen, and changes made during it are appended to it at
// once. S names N (its last snapshot failed) or N+1 (it succeeded); S' names N+1:
// |R1 | temp snapshot write(s), temp fsync            | S, (N,) N+1 with records appended since the copy       | S (+ N) + N+1                            |
// |R2 | rename temp -> saveFile                        | rename maybe on disk (without the dir fsync)           | S (+ N) + N+1, or S' + N+1               |
// |R3 | directory fsync                                | as R2                                                   | as R2                                    |
// |R4 | unlink of journals < N+1                       | S' + N+1 (+ N)                                          | S' + N+1; N is stale and removed         |
// At close the same runs without a next journal: the final snapshot S' stands alone ('nojournal <N>': it holds
// journals up to N). After its rename, and after the unlinks until the directory reaches the disk, N is still
// there: a leftover, removed at start (rows 10-12; before 'nojournal <N>' such a start was refused).
// Not simulated: a failing write or sync (faults-io and persist-io-errors tests; here only the one snapshot that fails
// with ENOSPC before the retry that names its journal), a file system that reorders
// directory operations (the variants keep them in order), bytes flipped inside synced data (journal-damaged).
//
// Summary (crash points, images, distinct states loaded) with t.diagnostic.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { CrashFs, noSyncFs } from './fixtures/crash-fs.mjs';
import { HOUR, manualClock, session } from './fixtures/persist/helpers.mjs';
import { mergeFaultsReport } from './fixtures/faults/report-merge.mjs';

const NAME = 'sessions.db';

/** Per mode: crash points, crash images, distinct states loaded; with FAULTS_REPORT added there. */
const explored = {};
after(() => {
  if (!process.env.FAULTS_REPORT || Object.keys(explored).length === 0) return;
  mergeFaultsReport(process.env.FAULTS_REPORT, {
    scalars: { powerCutStatesLoaded: Object.values(explored).reduce((a, e) => a + e.distinctStates, 0) },
    details: explored, key: 'powerCut', test: 'test/journal-crash-fs.test.mjs',
  });
});

/** Sessions as sorted [id, session] pairs: LRU order is not what a crash must keep. */
function canon(all) {
  return JSON.stringify(Object.entries(all ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function allOf(store) {
  return new Promise((resolve, reject) => {
    store.all((err, all) => (err ? reject(err) : resolve(canon(all))));
  });
}

/**
 * Runs the scripted workload. Returns the fixture (with its log), the state after every change
 * (`states[i]`: after the first i changes) and how many journal records each change appends.
 */
async function runWorkload(mode) {
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-crashfs-'));
  const crash = new CrashFs(dir);
  const clock = manualClock();
  const store = new MemFileStore({ saveFile: join(dir, NAME), journal: mode, savePeriod: 0, clock: clock.fn, fs: crash.fs });
  await store.ready;
  const states = [await allOf(store)];
  const records = [];
  const acks = [];
  const change = (method, args, recordCount = 1) => {
    const i = records.length;
    records.push(recordCount);
    clock.now += 1000;
    crash.mark({ type: 'call', i });
    acks.push(new Promise((resolve, reject) => {
      store[method](...args, (err) => {
        if (err) return reject(err);
        crash.mark({ type: 'ack', i });
        resolve();
      });
    }));
    // all() copies memory when called: the state right after this change.
    store.all((err, all) => { states[i + 1] = err ? `error ${err.message}` : canon(all); });
  };
  const settle = () => Promise.all(acks.splice(0));
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const snapshot = async (during) => {
    const p = store.flush();
    // flush() copies memory synchronously: the snapshot holds the changes made so far.
    crash.mark({ type: 'copy', changes: records.length });
    const copied = records.length;
    during();
    await pause(3);
    change('set', ['late', session({ n: records.length }, 9 * HOUR)]);
    await p;
    crash.mark({ type: 'saved', changes: copied });
    await settle();
  };
  const everySecond = () => (mode === 'everysec' ? pause(1100) : Promise.resolve());

  // One turn: three sets share a write (and in 'always' a sync).
  for (const id of ['a', 'b', 'c']) change('set', [id, session({ user: id })]);
  await settle();
  change('set', ['d', session({ user: 'd' })]);
  change('touch', ['a', session({ user: 'a' }, 2 * HOUR)]);
  change('set', ['e', session({ user: 'e', big: 'x'.repeat(3000) })]);
  await settle();
  change('destroy', ['b']);
  await settle();
  await everySecond();
  change('set', ['c', session({ user: 'c', v: 2 })]);
  // A snapshot with a rotation, changes made during it (held for the new journal, then written).
  await snapshot(() => {
    change('set', ['f', session({ user: 'f' })]);
    change('touch', ['c', session({ user: 'c', v: 2 }, 3 * HOUR)]);
  });
  change('destroy', ['d']);
  change('set', ['g', session({ user: 'g' })]);
  await settle();
  await everySecond();
  change('clear', []);
  change('set', ['h', session({ user: 'h' })]);
  change('set', ['i', session({ user: 'i' })]);
  change('destroy', [['h', 'missing']]);
  await settle();
  await snapshot(() => {
    change('set', ['j', session({ user: 'j' })]);
    change('destroy', ['i']);
  });
  change('set', ['k', session({ user: 'k' })]);
  change('touch', ['k', session({ user: 'k' }, 4 * HOUR)]);
  await settle();
  await everySecond();
  change('set', ['m', session({ user: 'm' })]);
  await settle();
  // Snapshots that name the journal appends go to instead of a new one, as it holds no record yet (rows R1-R4 above):
  // first the retry of a snapshot that failed (the snapshot on disk names an older journal), then a snapshot after
  // one that succeeded (both name the same journal). Changes made during them go straight to that journal.
  const generation = () => store.stats.persistence.journal.generation;
  const read = async (id) => {
    await new Promise((resolve, reject) => { store.get(id, (err) => (err ? reject(err) : resolve())); });
    assert.ok(store.stats.persistence.changesSinceSave > 0, 'a read that reorders the LRU calls for a snapshot');
  };
  // The journal a switch replaced is synced a last time and closed; only then does the new one take records (and
  // can be named again): until then a snapshot switches once more.
  const replacedClosed = async () => {
    const journalFds = () => [...crash.fds.values()].filter(({ ino }) =>
      [...crash.model.entries].some(([name, at]) => at === ino && /\.journal\.\d+$/.test(name))).length;
    for (const end = Date.now() + 10_000; journalFds() > 1;) {
      assert.ok(Date.now() < end, 'the replaced journal is closed');
      await pause(2);
    }
  };
  const reused = async (during) => {
    const gen = generation();
    await snapshot(during);
    assert.equal(generation(), gen, 'the snapshot named the journal it found empty');
  };
  crash.failNextSnapshotWrite = true;
  await assert.rejects(store.flush(), /ENOSPC/);
  await replacedClosed();
  await reused(() => {
    change('set', ['n', session({ user: 'n' })]);
    change('destroy', ['j']);
  });
  await everySecond();
  const quiet = store.flush();
  crash.mark({ type: 'copy', changes: records.length });
  await quiet;
  crash.mark({ type: 'saved', changes: records.length });
  await replacedClosed();
  await read('k');
  await reused(() => {
    change('touch', ['n', session({ user: 'n' }, 5 * HOUR)]);
    change('set', ['p', session({ user: 'p' })]);
  });
  change('destroy', ['k']);
  await settle();
  // close(): the journal's last sync, a final snapshot that stands alone, the journals removed.
  crash.mark({ type: 'copy', changes: records.length });
  await store.close();
  crash.mark({ type: 'saved', changes: records.length });
  rmSync(dir, { recursive: true, force: true });
  return { crash, states, records, clockAtEnd: clock.now };
}

/** Global journal record number -> change number, and per journal inode the end offset of each record. */
function recordMap(crash, records) {
  const changeOf = [];
  records.forEach((count, i) => { for (let r = 0; r < count; r++) changeOf.push(i); });
  const journals = new Map(); // ino -> { buf, headerDone, pos, ends: [{ end, record }] }
  const names = new Map();
  let next = 0;
  for (const step of crash.stepEntries) {
    if (step.kind === 'create') names.set(step.ino, step.name);
    if (step.kind !== 'write' || !/\.journal\.\d+$/.test(names.get(step.ino))) continue;
    let j = journals.get(step.ino);
    if (j === undefined) journals.set(step.ino, j = { buf: Buffer.alloc(0), pos: -1, ends: [] });
    j.buf = Buffer.concat([j.buf, step.bytes]);
    if (j.pos === -1) {
      const eol = j.buf.indexOf(0x0a);
      if (eol === -1) continue;
      j.pos = eol + 1;
    }
    for (;;) {
      const eol = j.buf.indexOf(0x0a, j.pos);
      if (eol === -1) break;
      const fields = j.buf.toString('latin1', j.pos, eol).split(' ');
      const end = eol + 1 + Number(fields[4]) + 1 + Number(fields[5]) + 1;
      if (end > j.buf.length) break;
      j.ends.push({ end, record: next++ });
      j.pos = end;
    }
  }
  assert.equal(next, changeOf.length, 'every change appended the records the script expects');
  return { changeOf, journals };
}

/**
 * For each crash point k (after the first k steps): the changes made (upper bound), acknowledged, and
 * covered by a completed sync or a durable snapshot (lower bounds).
 */
function bounds(crash, records) {
  const { changeOf, journals } = recordMap(crash, records);
  const steps = crash.stepEntries.length;
  const out = [];
  const covered = new Array(records.length).fill(0);
  const need = records;
  let called = 0;
  let acked = 0;
  let snapshotCovers = 0;
  let synced = 0;
  const marks = crash.log.filter((e) => e.kind === 'mark');
  let m = 0;
  const stepList = crash.stepEntries;
  for (let k = 0; k <= steps; k++) {
    if (k > 0) {
      const step = stepList[k - 1];
      if (step.kind === 'sync' && journals.has(step.ino)) {
        const j = journals.get(step.ino);
        for (const r of j.ends) {
          if (r.end <= step.length && !r.counted) {
            r.counted = true;
            covered[changeOf[r.record]]++;
          }
        }
      }
    }
    while (m < marks.length && marks[m].step <= k) {
      const mark = marks[m++];
      if (mark.type === 'call') called = Math.max(called, mark.i + 1);
      if (mark.type === 'ack') acked = Math.max(acked, mark.i + 1);
      if (mark.type === 'saved') snapshotCovers = Math.max(snapshotCovers, mark.changes);
    }
    while (synced < records.length && covered[synced] >= need[synced]) synced++;
    out.push({ called, acked, durable: Math.max(synced, snapshotCovers) });
  }
  return out;
}

async function reload(base, n, files, mode, now) {
  const dir = join(base, String(n));
  mkdirSync(dir);
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes, { mode: 0o600 });
  const store = new MemFileStore({ saveFile: join(dir, NAME), journal: mode, savePeriod: 0, clock: () => now, fs: noSyncFs });
  try {
    await store.ready;
    return await allOf(store);
  } catch (err) {
    return `refused: ${err.code} ${err.message}`;
  } finally {
    await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function imageKey(files) {
  const h = createHash('sha256');
  for (const [name, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) h.update(`${name}\0${bytes.length}\0`).update(bytes);
  return h.digest('hex');
}

for (const mode of ['always', 'everysec']) {
  test(`a power cut at every write, sync, rename and unlink reloads an acknowledged prefix ('${mode}')`, async (t) => {
    const started = performance.now();
    const { crash, states, records, clockAtEnd } = await runWorkload(mode);
    const limits = bounds(crash, records);
    const steps = crash.stepEntries;
    const kinds = {};
    for (const s of steps) kinds[s.kind] = (kinds[s.kind] ?? 0) + 1;
    if (mode === 'always') {
      // The barrier: no callback fires before a completed sync covers its records.
      for (const [k, l] of limits.entries()) assert.ok(l.acked <= l.durable, `step ${k}: ${l.acked} acknowledged, ${l.durable} durable`);
    }
    const base = mkdtempSync(join(tmpdir(), 'memfilestore-crashfs-reload-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const loaded = new Map();
    const failures = [];
    let images = 0;
    for (let k = 0; k <= steps.length; k++) {
      const { called, acked, durable } = limits[k];
      const lowest = mode === 'always' ? Math.max(acked, durable) : durable;
      for (const { variant, files } of crash.crashImages(k)) {
        images++;
        const key = imageKey(files);
        if (!loaded.has(key)) loaded.set(key, await reload(base, loaded.size, files, mode, clockAtEnd));
        const got = loaded.get(key);
        let match = -1;
        for (let p = called; p >= lowest && match === -1; p--) if (states[p] === got) match = p;
        if (match === -1) {
          failures.push(`crash before step ${k} (${steps[k]?.kind ?? 'end'} ${steps[k]?.name ?? ''}), variant ${variant}: ` +
            `files ${[...files].map(([n, b]) => `${n}:${b.length}`).join(', ')}; expected the state after ${lowest}..${called} changes, got ` +
            `${got.startsWith('refused') ? got : `a state matching ${states.findIndex((s) => s === got)}`}`);
        }
      }
    }
    t.diagnostic(`${mode}: ${records.length} changes, ${steps.length} crash points (${Object.entries(kinds).map(([k, v]) => `${v} ${k}`).join(', ')}), ` +
      `${images} crash images, ${loaded.size} distinct states loaded by the store, ${failures.length} wrong, ${Math.round(performance.now() - started)} ms`);
    explored[mode] = { changes: records.length, crashPoints: steps.length + 1, crashImages: images, distinctStates: loaded.size, wrong: failures.length };
    for (const failure of failures.slice(0, 20)) t.diagnostic(failure);
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} crash states reloaded wrong`);
  });
}

test('journals still beside the standalone snapshot close() wrote (their removal not on disk yet) are leftovers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-crashfs-close-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, NAME);
  const clock = manualClock();
  const store = new MemFileStore({ saveFile: file, journal: 'always', savePeriod: 0, clock: clock.fn });
  await store.ready;
  for (const id of ['a', 'b']) await new Promise((resolve, reject) => store.set(id, session({ user: id }), (err) => (err ? reject(err) : resolve())));
  const journals = nodeFs.readdirSync(dir).filter((n) => n.includes('.journal.'));
  assert.equal(journals.length, 1);
  const leftover = nodeFs.readFileSync(join(dir, journals[0]));
  const expected = await allOf(store);
  await store.close();
  // A power cut after close(): the snapshot's rename is on disk, the journal's unlink is not.
  writeFileSync(join(dir, journals[0]), leftover);
  const again = new MemFileStore({ saveFile: file, journal: 'always', savePeriod: 0, clock: clock.fn });
  await again.ready;
  assert.equal(await allOf(again), expected);
  assert.deepEqual(nodeFs.readdirSync(dir).filter((n) => n.includes('.journal.')), [], 'the leftover journal is removed');
  await again.close();
});
