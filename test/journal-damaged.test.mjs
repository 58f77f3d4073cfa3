// The damaged-file corpus for journals (issue 9, items 3 and 6), in the style of faults-damaged.test.mjs. The real
// store writes a snapshot naming journal 2, then two snapshots fail at their rename (fs seam), so journals 2, 3
// and 4 all hold records: the chain snapshot -> 2 -> 3 -> 4. Then:
// - every truncation inside the records of the last journal is a torn tail: it loads the records before the cut,
//   the 'load' event reports the bytes dropped, and the file is cut back to the last whole record;
// - the journals as the store left them (zeros set aside after their records) load whole, nothing cut; the rest
//   of the corpus is their records without that space;
// - a zero tail after the last record is that space (loads, nothing cut, 0 bytes torn); garbage, or garbage then
//   zeros, is a torn tail, cut;
// - a byte flipped in any record that has whole records after it (in its own journal or a later one) is refused
//   with ERR_SNAPSHOT_DAMAGED naming that journal, and no file is rewritten, replaced or added;
// - a byte flipped in a later journal's header is refused (or, in its time field, harmless), never a silent
//   drop of that journal's records;
// - a missing middle journal, and a journal of another store put in place of ours, are refused;
// - onDamagedFile: 'move-aside' moves the snapshot and every journal aside and starts empty.
// Counts with t.diagnostic.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsPromises from 'node:fs/promises';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, captureWarnings, fsError, manualClock, session } from './fixtures/persist/helpers.mjs';
import { mergeFaultsReport } from './fixtures/faults/report-merge.mjs';
import { noSyncFs } from './fixtures/crash-fs.mjs';
import { withoutSpace } from './fixtures/journal/helpers.mjs';

const NAME = 'sessions.db';

function canon(all) {
  return JSON.stringify(Object.entries(all ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Runs the real store; returns the files it leaves (snapshot, journals 2-4) and the state after each change. */
async function writeCorpus(dir, seed) {
  const clock = manualClock();
  let failRename = false;
  const fs = {
    open: fsPromises.open,
    unlink: fsPromises.unlink,
    rename: (from, to) => (failRename ? Promise.reject(fsError('EIO', 'rename', to)) : fsPromises.rename(from, to)),
  };
  const file = join(dir, NAME);
  const store = new MemFileStore({ saveFile: file, journal: 'always', savePeriod: 0, clock: clock.fn, fs });
  await store.ready;
  const states = [];
  const change = async (method, ...args) => {
    clock.now += 1000;
    await call(store, method, ...args);
    states.push(canon(await call(store, 'all')));
  };
  for (const id of ['a', 'b', 'c']) await change('set', `${seed}${id}`, session({ user: id }));
  await store.flush(); // snapshot naming journal 2
  await change('set', `${seed}d`, session({ user: 'd', note: 'ünïcødé\nline' }));
  await change('touch', `${seed}a`, session({ user: 'a' }, 7_200_000));
  await change('destroy', `${seed}b`);
  failRename = true;
  await assert.rejects(store.flush()); // rotated to journal 3, snapshot not renamed
  await change('set', `${seed}e`, session({ user: 'e' }));
  await change('clear');
  await change('set', `${seed}f`, session({ user: 'f' }));
  await assert.rejects(store.flush()); // journal 4
  await change('set', `${seed}g`, session({ user: 'g' }));
  await change('set', `${seed}h`, session({ user: 'h', big: 'x'.repeat(40) }));
  await change('destroy', `${seed}g`);
  const asLeft = new Map(readdirSync(dir).filter((n) => !n.endsWith('.lock')).map((n) => [n, readFileSync(join(dir, n))]));
  failRename = false;
  await store.close();
  assert.deepEqual([...asLeft.keys()].sort(), [NAME, `${NAME}.journal.2`, `${NAME}.journal.3`, `${NAME}.journal.4`]);
  const files = new Map([...asLeft].map(([n, bytes]) => [n, n === NAME ? bytes : withoutSpace(bytes)]));
  return { files, asLeft, states, now: clock.now };
}

/** End offsets of the records of a journal (after its header line). */
function recordEnds(bytes) {
  const ends = [];
  let pos = bytes.indexOf(0x0a) + 1;
  const headerEnd = pos;
  while (pos < bytes.length) {
    const eol = bytes.indexOf(0x0a, pos);
    const f = bytes.toString('latin1', pos, eol).split(' ');
    pos = eol + 1 + Number(f[4]) + 1 + Number(f[5]) + 1;
    ends.push(pos);
  }
  return { headerEnd, ends };
}

let corpus;
let foreign;
async function getCorpus(t) {
  corpus ??= await writeCorpus(mkdirTemp(t, 'ours'), 'x');
  foreign ??= await writeCorpus(mkdirTemp(t, 'other'), 'x');
  return corpus;
}

const scratch = mkdtempSync(join(tmpdir(), 'memfilestore-journal-damaged-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Counts per kind of damage, all handled as the test expects when it passes; with FAULTS_REPORT added there. */
const summary = { truncation: 0, tail: 0, flip: 0, header: 0, chain: 0, 'move-aside': 0 };
after(() => {
  if (!process.env.FAULTS_REPORT) return;
  const total = Object.values(summary).reduce((a, b) => a + b, 0);
  mergeFaultsReport(process.env.FAULTS_REPORT, {
    scalars: { journalVariantsTried: total },
    kinds: Object.fromEntries(Object.entries(summary).map(([k, v]) => [`journal-${k}`, v])),
    details: summary, key: 'journal', test: 'test/journal-damaged.test.mjs',
  });
});

function mkdirTemp(t, name) {
  const dir = join(scratch, `${name}-${Math.random().toString(16).slice(2)}`);
  mkdirSync(dir);
  return dir;
}

function lay(dir, files) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes, { mode: 0o600 });
}

function stateOf(dir) {
  return readdirSync(dir).sort().map((n) => {
    const st = statSync(join(dir, n), { bigint: true });
    return `${n} ${st.ino} ${st.mtimeNs} ${st.ctimeNs} ${readFileSync(join(dir, n)).toString('base64')}`;
  });
}

/** Loads `files`; resolves { err, state, load, dirAfter }. */
async function load(dir, files, now, options = {}) {
  lay(dir, files);
  const before = stateOf(dir);
  const store = new MemFileStore({ saveFile: join(dir, NAME), journal: 'always', savePeriod: 0, clock: () => now, fs: noSyncFs, ...options });
  let loadInfo;
  store.on('load', (info) => { loadInfo = info; });
  const err = await store.ready.then(() => undefined, (e) => e);
  const state = err === undefined ? canon(await call(store, 'all')) : undefined;
  const untouched = JSON.stringify(stateOf(dir)) === JSON.stringify(before);
  const sizes = Object.fromEntries(readdirSync(dir).map((n) => [n, statSync(join(dir, n)).size]));
  await store.close();
  return { err, state, load: loadInfo, untouched, sizes };
}

const J = (gen) => `${NAME}.journal.${gen}`;

test('every truncation inside the last journal\'s records is a torn tail: loads the prefix and cuts the file back', async (t) => {
  const { files, states, now } = await getCorpus(t);
  const dir = mkdirTemp(t, 'trunc');
  const last = files.get(J(4));
  const { headerEnd, ends } = recordEnds(last);
  const boundaries = [headerEnd, ...ends];
  let tried = 0;
  for (let cut = headerEnd; cut < last.length; cut++) {
    tried++;
    const whole = ends.filter((e) => e <= cut).length;
    const res = await load(dir, new Map([...files, [J(4), last.subarray(0, cut)]]), now);
    assert.equal(res.err, undefined, `cut at ${cut}: ${res.err?.message}`);
    assert.equal(res.state, states[states.length - ends.length + whole - 1], `cut at ${cut}: the state after the whole records`);
    assert.equal(res.load.tornBytes, cut - boundaries[whole], `cut at ${cut}: tornBytes`);
    assert.equal(res.sizes[J(4)], boundaries[whole], `cut at ${cut}: the file is cut back to the last whole record`);
  }
  summary.truncation = tried;
  t.diagnostic(`${tried} truncations of the last journal's ${ends.length} records, all loaded as torn tails`);
});

test('the journals as the store left them, with space set aside after their records, load whole and stay as they are', async (t) => {
  const { asLeft, files, states, now } = await getCorpus(t);
  for (const gen of [2, 3, 4]) {
    assert.ok(asLeft.get(J(gen)).length % (1 << 20) === 0 && asLeft.get(J(gen)).length > files.get(J(gen)).length, `journal ${gen}: 1 MiB set aside`);
  }
  const res = await load(mkdirTemp(t, 'as-left'), asLeft, now);
  assert.equal(res.err, undefined, res.err?.message);
  assert.equal(res.state, states.at(-1));
  assert.equal(res.load.tornBytes, 0);
  assert.equal(res.sizes[J(4)], asLeft.get(J(4)).length, 'nothing cut');
});

test('zero, garbage and garbage-then-zero tails after the last journal\'s records: space set aside, or a torn tail cut', async (t) => {
  const { files, states, now } = await getCorpus(t);
  const dir = mkdirTemp(t, 'tails');
  const last = files.get(J(4));
  let tried = 0;
  for (const n of [1, 7, 64, 512, 4096]) {
    const garbage = Buffer.from(Array.from({ length: n }, (_, i) => ((i * 151 + n * 7 + 13) & 0xff) || 1));
    for (const [kind, tail, torn] of [['zeros', Buffer.alloc(n), 0], ['garbage', garbage, n], ['garbage then zeros', Buffer.concat([garbage, Buffer.alloc(4096)]), n]]) {
      tried++;
      const res = await load(dir, new Map([...files, [J(4), Buffer.concat([last, tail])]]), now);
      assert.equal(res.err, undefined, `${kind} tail of ${n}: ${res.err?.message}`);
      assert.equal(res.state, states.at(-1));
      assert.equal(res.load.tornBytes, torn, `${kind} tail of ${n}: tornBytes`);
      assert.equal(res.sizes[J(4)], last.length + (torn === 0 ? n : 0), `${kind} tail of ${n}: cut back only when torn`);
    }
  }
  summary.tail = tried;
  t.diagnostic(`${tried} zero and garbage tails loaded`);
});

test('a flipped byte in a record with whole records after it is refused, naming the journal, nothing rewritten', async (t) => {
  const { files, now } = await getCorpus(t);
  const dir = mkdirTemp(t, 'flip');
  const failures = [];
  let tried = 0;
  for (const gen of [2, 3, 4]) {
    const bytes = files.get(J(gen));
    const { headerEnd, ends } = recordEnds(bytes);
    // The last journal's last record has nothing after it: damage there is a torn tail (test above).
    const until = gen === 4 ? ends.at(-2) : bytes.length;
    for (let at = headerEnd; at < until; at++) {
      tried++;
      const flipped = Buffer.from(bytes);
      flipped[at] ^= 0x01;
      const res = await load(dir, new Map([...files, [J(gen), flipped]]), now);
      const named = join(dir, J(gen));
      if (res.err?.code !== 'ERR_SNAPSHOT_DAMAGED' || !res.err.message.includes(named)) {
        failures.push(`journal ${gen} byte ${at}: ${res.err ? `${res.err.code} ${res.err.message}` : 'loaded'}`);
      } else if (!res.untouched) failures.push(`journal ${gen} byte ${at}: files changed`);
    }
  }
  if (failures.length === 0) summary.flip = tried;
  t.diagnostic(`${tried} flipped bytes in journal records, ${tried - failures.length} refused cleanly`);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} flips not refused cleanly`);
});

/** Flips every byte of the headers of journals `gens` (but `skip`); returns the flips that lost records silently. */
async function headerFlips(t, gens, skip = () => false) {
  const { files, states, now } = await getCorpus(t);
  const dir = mkdirTemp(t, 'header');
  const failures = [];
  let tried = 0;
  for (const gen of gens) {
    const bytes = files.get(J(gen));
    for (let at = 0; at < recordEnds(bytes).headerEnd; at++) {
      if (skip(gen, at, bytes)) continue;
      tried++;
      const flipped = Buffer.from(bytes);
      flipped[at] ^= 0x01;
      const res = await load(dir, new Map([...files, [J(gen), flipped]]), now);
      // The time field is not checked: a flip there loads everything. A token flipped into another valid token
      // breaks the link to the next journal, which the error names.
      const named = [J(gen), J(gen + 1)].some((name) => res.err?.message.includes(join(dir, name)));
      if (res.err === undefined ? res.state !== states.at(-1) : res.err.code !== 'ERR_SNAPSHOT_DAMAGED' || !named || !res.untouched) {
        failures.push(`journal ${gen} header byte ${at}: ${res.err ? res.err.message : 'loaded without its records'}`);
      }
    }
  }
  return { tried, failures };
}

/** The token field of a journal header: `express-memfilestore-journal 1 <gen> <token> ...`. */
const inToken = (gen, at, bytes) => {
  const start = bytes.indexOf(' ', bytes.indexOf(' ', bytes.indexOf(' ') + 1) + 1) + 1;
  return at >= start && at < start + 16;
};

test('a flipped byte in a later journal\'s header is refused, never a silent loss of its records', async (t) => {
  // The last journal's token is left to the next test.
  const { tried, failures } = await headerFlips(t, [3, 4], (gen, at, bytes) => gen === 4 && inToken(gen, at, bytes));
  summary.header = failures.length === 0 ? tried : 0;
  t.diagnostic(`${tried} flipped header bytes of journals 3 and 4: refused, or (time field) loaded whole`);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} header flips lost records`);
});

// The header's own CRC catches this: without it every record fails its checksum (the token seeds it) and the
// reader would take them all for a torn tail.
test('a flipped byte in the last journal\'s token, turning it into another valid token, is refused', async (t) => {
  const { tried, failures } = await headerFlips(t, [4], (gen, at, bytes) => !inToken(gen, at, bytes));
  t.diagnostic(`${tried} flips in the last journal's token, ${failures.length} loaded without its records`);
  assert.deepEqual(failures, []);
});

test('a missing middle journal, and another store\'s journal in place of ours, are refused', async (t) => {
  const { files, now } = await getCorpus(t);
  const dir = mkdirTemp(t, 'chain');
  const cases = [
    ['journal 3 missing', new Map([...files].filter(([n]) => n !== J(3))), J(4)],
    ['journal 2 (the first) missing', new Map([...files].filter(([n]) => n !== J(2))), J(2)],
    ['another store\'s journal 3', new Map([...files, [J(3), foreign.files.get(J(3))]]), J(3)],
    ['another store\'s journal 2 (a snapshot restored beside a foreign log)', new Map([...files, [J(2), foreign.files.get(J(2))]]), J(2)],
    ['another store\'s snapshot', new Map([...files, [NAME, foreign.files.get(NAME)]]), J(2)],
  ];
  for (const [what, set, named] of cases) {
    const res = await load(dir, set, now);
    assert.equal(res.err?.code, 'ERR_SNAPSHOT_DAMAGED', `${what}: ${res.err?.message ?? 'loaded'}`);
    assert.ok(res.err.message.includes(join(dir, named)), `${what}: ${res.err.message}`);
    assert.ok(res.untouched, `${what}: nothing rewritten`);
  }
  summary.chain = cases.length;
  t.diagnostic(`${cases.length} broken chains refused`);
});

test('onDamagedFile: \'move-aside\' moves the snapshot and every journal aside and starts empty', async (t) => {
  const { files, now } = await getCorpus(t);
  const warnings = captureWarnings(t);
  const dir = mkdirTemp(t, 'aside');
  const bytes = Buffer.from(files.get(J(3)));
  bytes[recordEnds(bytes).headerEnd + 12] ^= 0x01;
  const res = await load(dir, new Map([...files, [J(3), bytes]]), now, { onDamagedFile: 'move-aside' });
  assert.equal(res.err, undefined);
  assert.equal(res.state, canon({}));
  assert.equal(res.load.movedAside.startsWith(join(dir, `${NAME}.corrupt-`)), true);
  const names = readdirSync(dir);
  for (const name of files.keys()) {
    const aside = names.filter((n) => n.startsWith(`${name}.corrupt-`));
    assert.equal(aside.length, 1, `${name} moved aside once: ${names.join(', ')}`);
    assert.ok(readFileSync(join(dir, aside[0])).equals(name === J(3) ? bytes : files.get(name)), `${name} moved unchanged`);
  }
  assert.ok(!names.some((n) => /\.journal\.\d+$/.test(n)), `no journal left in place: ${names.join(', ')}`);
  assert.ok(warnings.some((w) => w.message.includes('4 files')), warnings.map((w) => w.message).join('\n'));
  assert.equal(basename(res.load.movedAside).startsWith(NAME), true);
  summary['move-aside'] = 1;
});
