// The README's file formats as a specification: "Snapshot format, version 2", "Journal format, version 1" and
// the load rules of "Persistence and its guarantees" promise that the files can be read from that text alone.
// test/fixtures/spec-reader.mjs is such a reader, written from the README without the code in src/files/; here it
// reads the files the real store wrote (in a power cut at every step of a workload, after kill -9 at random
// instants, copied while snapshots run) and files crafted at the edges of those rules, and must load what the real
// store loads: the same sessions, in the same LRU order, with the same values and expiries, the same journal
// records replayed and torn bytes dropped, and the same files refused. A disagreement means the README no
// longer says enough (or says something else): fix the text, or the code if the README promised it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { MemFileStore } from 'express-memfilestore';
import { CrashFs } from './fixtures/crash-fs.mjs';
import { HOUR, session } from './fixtures/persist/helpers.mjs';
import { compareFiles, NAME } from './fixtures/spec-compare.mjs';
import { parseJournalHeader, parseJournalRecords } from './fixtures/spec-reader.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/spec-writer-child.mjs', import.meta.url));
const MIB = 1024 * 1024;
const NOW = Date.UTC(2030, 0, 1);

/** A scratch directory for the loads, removed when the test ends. */
function scratch(t) {
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-spec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The snapshot and journal files of a directory, as a Map of name to bytes. */
function filesOf(dir) {
  const files = new Map();
  for (const name of readdirSync(dir)) {
    if (name !== NAME && !name.startsWith(`${NAME}.journal.`)) continue;
    try {
      files.set(name, readFileSync(join(dir, name)));
    } catch (err) {
      if (err.code !== 'ENOENT') throw err; // removed by the store between the listing and the read
    }
  }
  return files;
}

const describe = (files) => [...files].map(([name, bytes]) => `${name}:${bytes.length}`).join(', ');

// --- Files crafted from the README's text (the writer side of the spec) ---

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const hex8 = (n) => n.toString(16).padStart(8, '0');
const value = (n) => JSON.stringify({ cookie: { originalMaxAge: HOUR, path: '/' }, n });
const LIVE = NOW + HOUR;
const [T1, T2, T3] = ['1111111111111111', '2222222222222222', '3333333333333333'];

/** A snapshot of `[id, expires, value]` records; `field` the header's journal field, `version`, `newline` after the trailer. */
function snapshot(records, { field = 'nojournal', version = 2, newline = true } = {}) {
  const parts = [`express-memfilestore-snapshot ${version} 2030-01-01T00:00:00.000Z${field === '' ? '' : ` ${field}`}\n`];
  for (const [id, expires, v] of records) parts.push(`r ${expires} ${Buffer.byteLength(id)} ${Buffer.byteLength(v)}\n${id}\n${v}\n`);
  const body = Buffer.from(parts.join(''));
  return Buffer.concat([body, Buffer.from(`end ${records.length} ${sha256(body)}${newline ? '\n' : ''}`)]);
}

/** The checksum a journal names a standalone snapshot by: the trailer's. */
const checksumOf = (snap) => snap.toString('latin1').match(/end \d+ ([0-9a-f]{64})\n$/)[1];

/** A journal of `[op, expires, id, value]` records, in 1 MiB of space unless `space` is false; `seqs` overrides. */
function journal(gen, token, after, records, { space = true, seqs } = {}) {
  const line = `express-memfilestore-journal 1 ${gen} ${token} ${after} 2030-01-01T00:00:00.000Z`;
  const parts = [Buffer.from(`${line} ${hex8(crc32(Buffer.from(line)))}\n`)];
  records.forEach(([op, expires, id, v], i) => {
    const body = Buffer.from(`${op} ${seqs?.[i] ?? i + 1} ${expires} ${Buffer.byteLength(id)} ${Buffer.byteLength(v)}\n${id}\n${v}\n`);
    parts.push(Buffer.from(`${hex8(crc32(body, crc32(Buffer.from(token))))} `), body);
  });
  const bytes = Buffer.concat(parts);
  return space ? Buffer.concat([bytes, Buffer.alloc(MIB - bytes.length)]) : bytes;
}

const J = (gen) => `${NAME}.journal.${gen}`;
const named2 = snapshot([['a', LIVE, value(1)]], { field: `journal 2 ${T2}` });
const standalone3 = snapshot([['a', LIVE, value(1)]], { field: 'nojournal 3' });

/** Each case: files, and what a start loads (ids least recently used first) or 'refused'. */
const CRAFTED = {
  'a repeated id of a live session is refused': [{ [NAME]: snapshot([['a', LIVE, value(1)], ['a', LIVE, value(2)]]) }, 'refused'],
  'a repeat of a record dropped as expired replaces it': [{ [NAME]: snapshot([['a', NOW - 1, value(1)], ['b', LIVE, value(0)], ['a', LIVE, value(2)]]) }, ['b', 'a']],
  'a session expires at its expiry millisecond': [{ [NAME]: snapshot([['a', NOW, value(1)], ['b', NOW + 1, value(1)], ['c', 0, value(1)]]) }, ['b', 'c']],
  'the trailer ends with a newline': [{ [NAME]: snapshot([['a', LIVE, value(1)]], { newline: false }) }, 'refused'],
  'nothing after the trailer, zeros neither': [{ [NAME]: Buffer.concat([snapshot([['a', LIVE, value(1)]]), Buffer.alloc(8)]) }, 'refused'],
  'an empty snapshot file is refused': [{ [NAME]: Buffer.alloc(0) }, 'refused'],
  'hex in the trailer is lowercase': [{ [NAME]: Buffer.from(snapshot([['a', LIVE, value(1)]]).toString('latin1').replace(/ ([0-9a-f]{64})\n$/, (m, h) => ` ${h.toUpperCase()}\n`), 'latin1') }, 'refused'],
  'version 1 has no journal field and loads': [{ [NAME]: snapshot([['a', LIVE, value(1)]], { version: 1, field: '' }) }, ['a']],
  'a version 1 snapshot is continued by the journal naming its trailer checksum': (() => {
    const v1 = snapshot([['a', LIVE, value(1)]], { version: 1, field: '' });
    return [{ [NAME]: v1, [J(1)]: journal(1, T1, `s:${checksumOf(v1)}`, [['d', 0, 'a', ''], ['s', LIVE, 'b', value(2)]]) }, ['b']];
  })(),
  'version 2 always has one': [{ [NAME]: snapshot([['a', LIVE, value(1)]], { field: '' }) }, 'refused'],
  'an unknown version is refused': [{ [NAME]: snapshot([['a', LIVE, value(1)]], { version: 3 }) }, 'refused'],
  'ids and values are raw UTF-8 counted in bytes': [{ [NAME]: snapshot([['é\n😀 r 1 2 3', LIVE, 'end 0 x\nü'], ['', 0, '']]) }, ['é\n😀 r 1 2 3', '']],
  'a standalone snapshot is continued by the journal naming its trailer checksum': [
    { [NAME]: standalone3, [J(4)]: journal(4, T1, `s:${checksumOf(standalone3)}`, [['s', LIVE, 'b', value(2)]]) }, ['a', 'b']],
  '... whatever its generation': [
    { [NAME]: standalone3, [J(3)]: journal(3, T1, `s:${checksumOf(standalone3)}`, [['s', LIVE, 'b', value(2)]]) }, ['a', 'b']],
  '... not the checksum of the whole file': [
    { [NAME]: standalone3, [J(4)]: journal(4, T1, `s:${sha256(standalone3)}`, [['s', LIVE, 'b', value(2)]]) }, 'refused'],
  'a journal up to n of nojournal n is a leftover': [{ [NAME]: standalone3, [J(3)]: journal(3, T1, 's:-', [['s', LIVE, 'b', value(2)]]) }, ['a']],
  'a journal above n holding records, in no chain, is refused': [{ [NAME]: standalone3, [J(4)]: journal(4, T1, `j:${T3}`, [['s', LIVE, 'b', value(2)]]) }, 'refused'],
  '... holding none is a leftover': [{ [NAME]: standalone3, [J(4)]: journal(4, T1, `j:${T3}`, []) }, ['a']],
  'without a snapshot, the journal naming s:- (any generation)': [{ [J(5)]: journal(5, T1, 's:-', [['s', LIVE, 'b', value(2)]]) }, ['b']],
  'without a snapshot, a journal naming another is refused': [{ [J(1)]: journal(1, T1, `j:${T3}`, [['s', LIVE, 'b', value(2)]]) }, 'refused'],
  'the journal a snapshot names is missing': [{ [NAME]: named2 }, 'refused'],
  '... or empty': [{ [NAME]: named2, [J(2)]: Buffer.alloc(0) }, 'refused'],
  '... or holds another token': [{ [NAME]: named2, [J(2)]: journal(2, T1, `j:${T3}`, []) }, 'refused'],
  '... or its header names another generation': [{ [NAME]: named2, [J(2)]: journal(5, T2, `j:${T3}`, []) }, 'refused'],
  '... or its name has a leading zero (not a journal)': [{ [NAME]: named2, [`${J(0)}2`]: journal(2, T2, `j:${T3}`, []) }, 'refused'],
  'the chain skips generations, by tokens': [
    { [NAME]: named2, [J(2)]: journal(2, T2, `j:${T3}`, [['s', LIVE, 'b', value(2)]]), [J(4)]: journal(4, T1, `j:${T2}`, [['s', LIVE, 'c', value(3)]]) }, ['a', 'b', 'c']],
  'two journals continuing one: the second is refused': [
    { [NAME]: named2, [J(2)]: journal(2, T2, `j:${T3}`, []), [J(3)]: journal(3, T1, `j:${T2}`, [['s', LIVE, 'c', value(3)]]), [J(4)]: journal(4, T3, `j:${T2}`, [['s', LIVE, 'd', value(4)]]) }, 'refused'],
  'a journal below the one named is a leftover, damaged or not': [{ [NAME]: named2, [J(1)]: Buffer.from('garbage\nr 1 2 3\n'), [J(2)]: journal(2, T2, `j:${T3}`, []) }, ['a']],
  'a torn tail followed by a journal holding records is refused': (() => {
    const torn = journal(2, T2, `j:${T3}`, [['s', LIVE, 'b', value(2)], ['s', LIVE, 'x', value(9)]], { space: false });
    return [{ [NAME]: named2, [J(2)]: torn.subarray(0, torn.length - 5), [J(3)]: journal(3, T1, `j:${T2}`, [['s', LIVE, 'c', value(3)]]) }, 'refused'];
  })(),
  'a record whose seq is not the next, last: a torn tail': [
    { [NAME]: named2, [J(2)]: journal(2, T2, `j:${T3}`, [['s', LIVE, 'b', value(2)], ['s', LIVE, 'c', value(3)]], { seqs: [1, 3] }) }, ['a', 'b']],
  '... with a record after it: refused': [
    { [NAME]: named2, [J(2)]: journal(2, T2, `j:${T3}`, [['s', LIVE, 'b', value(2)], ['s', LIVE, 'c', value(3)], ['s', LIVE, 'd', value(4)]], { seqs: [1, 3, 4] }) }, 'refused'],
  'a touch replaces the session, even one no longer there': [
    { [NAME]: snapshot([['a', NOW - 1, value(1)], ['b', LIVE, value(2)]], { field: `journal 2 ${T2}` }), [J(2)]: journal(2, T2, `j:${T3}`, [['t', LIVE, 'a', value(5)], ['t', LIVE, 'z', value(6)]]) }, ['b', 'a', 'z']],
  'the last change wins, expired or not; clear empties the snapshot too': [
    { [NAME]: snapshot([['a', LIVE, value(1)], ['b', LIVE, value(2)], ['c', LIVE, value(3)]], { field: `journal 2 ${T2}` }),
      [J(2)]: journal(2, T2, `j:${T3}`, [['s', NOW - 5, 'a', value(2)], ['s', LIVE, 'b', value(7)], ['c', 0, '', ''], ['s', LIVE, 'c', value(8)], ['d', 0, 'q', '']]) }, ['c']],
  'the header CRC covers the line before it: damaged, with records after: refused': (() => {
    const j = journal(2, T2, `j:${T3}`, [['s', LIVE, 'b', value(2)]]);
    j[40] ^= 1;
    return [{ [NAME]: named2, [J(2)]: j }, 'refused'];
  })(),
  'a record CRC in uppercase hex does not check out': [
    { [NAME]: named2, [J(2)]: Buffer.from(journal(2, T2, `j:${T3}`, [['s', LIVE, 'b', value(2)]]).toString('latin1').replace(/\n([0-9a-f]{8}) s/, (m, c) => `\n${c.toUpperCase()} s`), 'latin1') }, ['a']],
  'zeros in place of a record, a whole record after them: refused': (() => {
    const two = journal(2, T2, `j:${T3}`, [['s', LIVE, 'b', value(2)], ['s', LIVE, 'c', value(3)]], { space: false });
    const one = journal(2, T2, `j:${T3}`, [['s', LIVE, 'b', value(2)]], { space: false });
    const j = Buffer.alloc(MIB);
    one.copy(j);
    two.copy(j, one.length + 100, one.length);
    return [{ [NAME]: named2, [J(2)]: j }, 'refused'];
  })(),
  'zeros, then bytes that are no record: a torn tail up to the last of them': (() => {
    const j = journal(2, T2, `j:${T3}`, [['s', LIVE, 'b', value(2)]]);
    j[5000] = 0x41;
    return [{ [NAME]: named2, [J(2)]: j }, ['a', 'b']];
  })(),
};

test('files crafted from the README at the edges of its rules: the spec reader and the store load what the README says', async (t) => {
  const base = scratch(t);
  const wrong = [];
  for (const [label, [files, expected]] of Object.entries(CRAFTED)) {
    const { out, spec, real } = await compareFiles(new Map(Object.entries(files)), { now: NOW, base });
    const got = spec.refused !== undefined ? 'refused' : spec.sessions.map((s) => s.id);
    if (out.length > 0) wrong.push(`${label}: the spec reader and the store disagree:\n  ${out.join('\n  ')}`);
    else if (JSON.stringify(got) !== JSON.stringify(expected)) {
      wrong.push(`${label}: both ${got === 'refused' ? `refuse (${real.refused})` : `load ${JSON.stringify(got)}`}, the README says ${JSON.stringify(expected)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('max and maxSize apply at load to what the replay ends with, least recently used evicted first', async (t) => {
  const base = scratch(t);
  const files = new Map([
    [NAME, snapshot([['a', LIVE, value(1)], ['x', NOW - 5, value(9)], ['b', LIVE, value(2)], ['c', LIVE, value(3)]], { field: `journal 2 ${T2}` })],
    // With max 2 applied as each change replays, 'a' would be evicted by 'd' before 'b' and 'c' are deleted.
    [J(2), journal(2, T2, `j:${T3}`, [['s', LIVE, 'd', value(4)], ['d', 0, 'b', ''], ['d', 0, 'c', '']])],
  ]);
  for (const [limits, expected] of [[{ max: 2 }, ['a', 'd']], [{ max: 1 }, ['d']], [{ maxSize: 2 * (1 + value(1).length) }, ['a', 'd']], [{ maxSize: 1 + value(1).length + 1 }, ['d']]]) {
    const { out, spec } = await compareFiles(files, { now: NOW, base, ...limits });
    assert.deepEqual(out, [], JSON.stringify(limits));
    assert.deepEqual(spec.sessions.map((s) => s.id), expected, JSON.stringify(limits));
  }
  // A session larger than maxSize on its own is dropped, wherever it is in the order; the others stay.
  const huge = new Map([[NAME, snapshot([['a', LIVE, value(1)], ['g', LIVE, 'x'.repeat(500)], ['b', LIVE, value(2)]], { field: `journal 2 ${T2}` })],
    [J(2), journal(2, T2, `j:${T3}`, [['s', LIVE, 'h', 'y'.repeat(500)], ['s', LIVE, 'c', value(3)]])]]);
  const dropped = await compareFiles(huge, { now: NOW, base, maxSize: 3 * (1 + value(1).length) });
  assert.deepEqual(dropped.out, []);
  assert.deepEqual(dropped.spec.sessions.map((s) => s.id), ['a', 'b', 'c']);
  // "A repeat of a record that was dropped at load, as expired or evicted by max/maxSize, replaces it".
  const repeat = new Map([[NAME, snapshot([['a', LIVE, value(1)], ['b', LIVE, value(2)], ['a', LIVE, value(3)]])]]);
  const { out, spec } = await compareFiles(repeat, { now: NOW, base, max: 1 });
  assert.deepEqual(out, []);
  assert.deepEqual(spec.sessions.map((s) => [s.id, s.value]), [['a', value(3)]]);
});

test('a power cut at every write, sync, rename and unlink of a workload: the spec reader loads what the store loads', async (t) => {
  // Odd ids (a newline, lines that look like records and trailers, the empty id), unicode values, a value of
  // 200 kB, touches that outlive the snapshot's record, destroys, a clear, snapshots with rotations and
  // changes made during them, and close(). Loaded 90 minutes after the last change: the 1-hour sessions expired.
  const dir = scratch(t);
  const crash = new CrashFs(dir);
  const clock = { now: NOW };
  const store = new MemFileStore({ saveFile: join(dir, NAME), journal: 'always', savePeriod: 0, clock: () => clock.now, fs: crash.fs });
  await store.ready;
  const acks = [];
  const change = (method, ...args) => {
    clock.now += 1000;
    acks.push(new Promise((resolve, reject) => { store[method](...args, (err) => (err ? reject(err) : resolve())); }));
  };
  const settle = () => Promise.all(acks.splice(0));
  const ids = ['a', 'é😀', 'line\nbreak', 'r 1 2 3', '', '0', 'end 1 abc', 'tab\tend\r'];
  for (const id of ids) change('set', id, session({ user: id, s: 'ü\n"\\' }));
  await settle();
  change('touch', 'a', session({ user: 'a', s: 'ü\n"\\' }, 5 * HOUR));
  change('set', 'big', session({ big: `${'x'.repeat(200_000)}ü` }, 3 * HOUR));
  await settle();
  change('destroy', 'r 1 2 3');
  await settle();
  let saved = store.flush();
  change('set', 'during', session({ d: 1 }, 4 * HOUR));
  change('touch', 'é😀', session({ user: 'é😀', s: 'ü\n"\\' }, 6 * HOUR));
  await saved;
  await settle();
  change('clear');
  change('set', 'after-clear', session({ n: 1 }, 7 * HOUR));
  change('set', 'short', session({ n: 1 }, 1000));
  await settle();
  saved = store.flush();
  change('destroy', ['after-clear', 'missing']);
  change('set', 'x', session({ n: 2 }, 8 * HOUR));
  await saved;
  await settle();
  change('set', 'y', session({ n: 3 }, 8 * HOUR));
  await settle();
  await store.close();

  const base = scratch(t);
  const seen = new Set();
  const wrong = [];
  const steps = crash.stepEntries.length;
  for (let k = 0; k <= steps; k++) {
    for (const { variant, files } of crash.crashImages(k)) {
      const hash = createHash('sha256');
      for (const [name, bytes] of [...files].sort(([x], [y]) => (x < y ? -1 : 1))) hash.update(`${name}\0${bytes.length}\0`).update(bytes);
      const key = hash.digest('hex');
      if (seen.has(key)) continue;
      seen.add(key);
      const { out, spec } = await compareFiles(files, { now: clock.now + 90 * 60_000, journal: 'always', base });
      if (spec.refused !== undefined) out.push(`refused after a power cut: ${spec.refused}`);
      if (out.length > 0) wrong.push(`power cut before step ${k}, ${variant} (${describe(files)}):\n  ${out.join('\n  ')}`);
    }
  }
  t.diagnostic(`${steps} crash points, ${seen.size} distinct crash images compared`);
  assert.ok(seen.size > 50, 'the workload left enough states to compare');
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${seen.size} crash images read differently`);
});

/** Starts the writer child on `file`; resolves once its store is open. */
function startWriter(t, file, seed, modes, max) {
  const proc = spawn(process.execPath, [CHILD, file, String(seed), modes, ...(max === undefined ? [] : [String(max)])], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => proc.kill('SIGKILL'));
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    proc.stdout.once('data', () => resolve(proc));
    proc.once('exit', (code) => reject(new Error(`the writer exited (${code}) before it was ready: ${stderr}`)));
  });
}

test('kill -9 at random instants of a process writing with always, everysec and journal: false in turn, with and without max: the spec reader loads what the store loads', { timeout: 60_000 }, async (t) => {
  // One directory throughout: each writer starts on what the last one left (torn tails, leftover journals).
  const dir = scratch(t);
  const base = scratch(t);
  const file = join(dir, NAME);
  const wrong = [];
  let journalsWithRecords = 0;
  // Journals the last kill left with a torn tail: a SIGKILL can stop a write of several pages part way (the crash
  // loop of the README counted 8 torn tails in 1000 kills), and the next start cuts the tail back to the last whole
  // record, which leaves the journal shorter than its 1 MiB step until its next record (README, "a torn tail cut at a
  // start leaves it shorter"). A writer killed in that window (its first changes appended nothing, its first snapshot
  // still running) left such a journal, which this test called wrong.
  let tornBefore = new Set();
  for (let kill = 0; kill < 8; kill++) {
    // Every other writer with max 25: its evictions are journaled as deletions, and the loads use that max too.
    const max = kill % 2 === 0 ? undefined : 25;
    const proc = await startWriter(t, file, 7919 * (kill + 1), kill % 4 < 2 ? 'always,everysec,false' : 'everysec,false,always', max);
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400));
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    const files = filesOf(dir);
    const { out, spec } = await compareFiles(files, { now: Date.now(), base, max });
    if (spec.refused !== undefined) out.push(`refused after kill -9: ${spec.refused}`);
    // "a journal that holds records is 1 MiB or a multiple of it", but for a torn tail cut at a start.
    const tornNow = new Set();
    for (const [name, bytes] of files) {
      if (name === NAME) continue;
      const header = parseJournalHeader(bytes);
      const { records, torn, end } = header.headerless ? { records: [] } : parseJournalRecords(bytes, header, name);
      if (torn) tornNow.add(name);
      if (records.length === 0) continue;
      journalsWithRecords++;
      // "d carries the id, with expiry 0 and an empty value; c carries 0 and empty fields"
      for (const r of records) {
        if ((r.op === 'd' || r.op === 'c') && (r.expires !== 0 || r.value !== '' || (r.op === 'c' && r.id !== ''))) {
          out.push(`${name}: record ${r.seq} (${r.op}) carries ${JSON.stringify([r.expires, r.id, r.value.slice(0, 20)])}`);
        }
      }
      const cutAtStart = tornBefore.has(name) && bytes.length === end;
      if (bytes.length % MIB !== 0 && !cutAtStart) out.push(`${name} holds records in ${bytes.length} bytes, not a multiple of 1 MiB`);
    }
    tornBefore = tornNow;
    if (out.length > 0) wrong.push(`kill ${kill} (${describe(files)}):\n  ${out.join('\n  ')}`);
  }
  assert.ok(journalsWithRecords > 0, 'some kills left journals holding records');
  assert.deepEqual(wrong, []);
});

test('files copied while snapshots run under writes (a value over 1 MiB among them): the spec reader loads what the store loads', async (t) => {
  const dir = scratch(t);
  const base = scratch(t);
  const copies = scratch(t);
  const store = new MemFileStore({ saveFile: join(dir, NAME), journal: 'everysec', savePeriod: 0 });
  t.after(() => store.close().catch(() => undefined));
  await store.ready;
  const set = (id, data, maxAge) => new Promise((resolve, reject) => { store.set(id, session(data, maxAge), (err) => (err ? reject(err) : resolve())); });
  for (let i = 0; i < 2000; i++) await set(`s${i}`, { n: i, pad: 'é'.repeat(300) });
  await set('huge', { big: 'ü\n'.repeat(700_000) }); // 2.1 MB in the journal: several 1 MiB steps
  const states = [];
  let n = 0;
  for (let round = 0; round < 3; round++) {
    const saving = store.flush();
    let done = false;
    saving.then(() => { done = true; }, () => { done = true; });
    while (!done) {
      for (let i = 0; i < 20; i++) store.set(`w${n++ % 500}`, session({ n, v: '😀\n' }), () => undefined);
      await new Promise((resolve) => setImmediate(resolve));
      states.push(filesOf(dir));
    }
    await saving;
    store.destroy(`s${round}`, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 5));
    states.push(filesOf(dir));
  }
  await store.close();
  states.push(filesOf(dir));
  const wrong = [];
  let loaded = 0;
  // A copy made while the store works is not one instant (it may miss a journal removed between the listing and
  // the read): both must still read it alike.
  const every = Math.max(1, Math.ceil(states.length / 16));
  const sample = states.filter((_, i) => i % every === 0 || i === states.length - 1);
  for (const [i, files] of sample.entries()) {
    const { out, spec } = await compareFiles(files, { now: Date.now(), base: copies });
    if (spec.refused === undefined) loaded++;
    if (out.length > 0) wrong.push(`copy ${i} (${describe(files)}):\n  ${out.join('\n  ')}`);
  }
  rmSync(base, { recursive: true, force: true });
  const midRotation = sample.filter((files) => [...files.keys()].filter((name) => name !== NAME).length > 1).length;
  t.diagnostic(`${sample.length} of ${states.length} copies compared, ${loaded} loaded, ${midRotation} with two journals (mid-rotation)`);
  assert.ok(midRotation > 0, 'some copies were made while a snapshot rotated the journal');
  assert.ok(sample.length >= 8, `${sample.length} copies`);
  assert.ok(loaded >= sample.length - 2, `${loaded} of ${sample.length} copies loaded`);
  assert.deepEqual(wrong.slice(0, 5), []);
});

test('the tokens at work on real files: a journal beside a snapshot it does not continue is refused, a record copied from another journal does not check out', async (t) => {
  const dir = scratch(t);
  const base = scratch(t);
  const file = join(dir, NAME);
  const store = new MemFileStore({ saveFile: file, journal: 'always', savePeriod: 0, clock: () => NOW });
  t.after(() => store.close().catch(() => undefined));
  await store.ready;
  const set = (id) => new Promise((resolve, reject) => { store.set(id, session({ id }), (err) => (err ? reject(err) : resolve())); });
  await set('a');
  await store.flush();
  await set('b');
  const first = filesOf(dir);
  await store.flush();
  await set('c');
  const second = filesOf(dir);
  const [oldJournal] = [...first.keys()].filter((name) => name !== NAME);
  const [newJournal] = [...second.keys()].filter((name) => name !== NAME);
  // The newer snapshot with the older journal renamed as its own.
  const mixed = new Map([[NAME, second.get(NAME)], [newJournal, first.get(oldJournal)]]);
  // The older journal's record spliced into the newer journal (its own CRC kept): seeded by another token.
  const header = parseJournalHeader(second.get(newJournal));
  const oldHeader = parseJournalHeader(first.get(oldJournal));
  const spliced = Buffer.from(second.get(newJournal));
  const oldRecords = first.get(oldJournal).subarray(oldHeader.bytes, parseJournalRecords(first.get(oldJournal), oldHeader).end);
  oldRecords.copy(spliced, header.bytes);
  spliced.fill(0, header.bytes + oldRecords.length, header.bytes + oldRecords.length + 64);
  for (const [label, files, expected] of [['wrong journal', mixed, 'refused'], ['record from another journal', new Map([[NAME, second.get(NAME)], [newJournal, spliced]]), 'torn']]) {
    const { out, spec } = await compareFiles(files, { now: NOW, base });
    assert.deepEqual(out, [], label);
    if (expected === 'refused') assert.ok(spec.refused !== undefined, label);
    else assert.ok(spec.tornBytes > 0 && spec.journalRecords === 0, `${label}: its record does not check out`);
  }
});
