// Errors as a public API: every `code` the store gives is in the README's error table, and every code the table lists
// is driven here for real (real files, real directories, a real bind mount; the journal's fs seam only for a failed
// write, as test/journal-faults.test.mjs). For each: the code, the class (one class through require and import), a
// message that names the file and says what to do, the underlying fs error kept as `cause` with its errno code, and
// the same failure under the same code through callbacks, promises and 'error' events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as esm from 'express-memfilestore';
import { callError, nextEvent, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { settle } from './fixtures/store-calls.mjs';
import { journalFs } from './fixtures/journal/helpers.mjs';
import { skipUnlessCi } from './fixtures/must-run.mjs';

const cjs = createRequire(import.meta.url)('express-memfilestore');
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const SRC = new URL('../src/', import.meta.url);
const LEGACY = '{"a":{"cookie":{"originalMaxAge":3600000,"expires":"2999-01-01T00:00:00.000Z"}}}';

/** The codes in the first column of the README's table under "### Errors". */
function documentedCodes() {
  const section = /\n### Errors\n([\s\S]*?)\n##/.exec(README)?.[1];
  assert.ok(section, 'README has an "### Errors" section');
  const codes = new Set();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    for (const [, code] of line.split(' | ')[0].matchAll(/`([A-Z][A-Z_]+)`/g)) codes.add(code);
  }
  return codes;
}

/** The codes the store's sources (not the CLI's) set on an error: `code = '...'` and `code: '...'`. */
function codesInSource(dir = SRC) {
  const codes = new Set();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (entry.name !== 'cli') for (const code of codesInSource(new URL(`${entry.name}/`, dir))) codes.add(code);
    } else if (entry.name.endsWith('.ts')) {
      for (const [, code] of readFileSync(new URL(entry.name, dir), 'utf8').matchAll(/\bcode(?: =|:) '([A-Z][A-Z_]+)'/g)) codes.add(code);
    }
  }
  return codes;
}

/** A start refused: `ready`, the calls and flush() give that one error; close() resolves. @returns the error. */
async function refusedStart(t, saveFile, extra = {}) {
  const store = track(t, new esm.MemFileStore({ saveFile, ...extra }));
  const err = await store.ready.then(() => assert.fail(`${saveFile}: the start succeeded`), (e) => e);
  assert.ok(err instanceof Error, String(err));
  assert.equal(await callError(store, 'set', 'a', session({})), err, 'set gives the error ready rejected with');
  assert.equal(await callError(store, 'destroy', 'a'), err);
  assert.equal(await store.flush().then(() => undefined, (e) => e), err, 'flush() rejects with it');
  const got = await callError(store, 'get', 'a');
  if (err.code === 'ENOENT') {
    // express-session takes ENOENT from get for "no such session": the start error is wrapped.
    assert.equal(got.code, 'ERR_SNAPSHOT_UNUSABLE');
    assert.equal(got.message, err.message);
    assert.equal(got.cause, err);
  } else assert.equal(got, err, 'get gives the error ready rejected with');
  await store.close();
  return err;
}

/** Checks what every error of the store holds: our prefix, the file named, what to do, the fs error as cause. */
function check(err, { code, name = 'Error', file, todo, cause }) {
  assert.ok(err instanceof Error, `${code}: an Error`);
  assert.equal(err.code, code);
  assert.equal(err.name, name, `${code}: its name`);
  assert.ok(err.message.startsWith('express-memfilestore: '), err.message);
  // null: a memory-only store, no file to name.
  if (file !== null) assert.ok(err.message.includes(`"${file}"`), `${code}: names "${file}": ${err.message}`);
  assert.match(err.message, todo, `${code}: says what to do`);
  if (cause === undefined) return;
  assert.equal(err.cause?.code, cause, `${code}: the fs error as cause, its errno code kept`);
}

// One driver per documented code; each returns once it has checked its error.
const DRIVERS = {
  async ERR_STORE_CLOSED(t) {
    const file = join(tempDir(t), 'sessions.db');
    for (const store of [new esm.MemFileStore({ saveFile: file }), new cjs.MemFileStore()]) {
      await store.close();
      const errors = [
        ...await Promise.all(['get', 'set', 'touch', 'destroy', 'ids', 'all', 'length', 'clear'].map((method) =>
          settle(store, method, ...(method === 'set' || method === 'touch' ? ['a', session({})] : method === 'get' || method === 'destroy' ? ['a'] : []))
            .then(({ err }) => err))),
        await store.flush().then(() => undefined, (e) => e),
      ];
      for (const err of errors) {
        assert.ok(err instanceof esm.StoreClosedError && err instanceof cjs.StoreClosedError, `one class for require and import: ${err}`);
        check(err, { code: 'ERR_STORE_CLOSED', name: 'StoreClosedError', file: store.options.saveFile ?? null, todo: /close\(\) was called.*Close the HTTP server first/ });
      }
    }
  },
  async ERR_SNAPSHOT_DAMAGED(t) {
    const file = join(tempDir(t), 'sessions.db');
    writeFileSync(file, 'express-memfilestore-snapshot 2 not a date\n');
    check(await refusedStart(t, file), { code: 'ERR_SNAPSHOT_DAMAGED', name: 'SnapshotError', file, todo: /fix or remove it, or set onDamagedFile/ });
  },
  async ERR_SNAPSHOT_LOCKED(t) {
    const file = join(tempDir(t), 'sessions.db');
    track(t, new cjs.MemFileStore({ saveFile: file }));
    check(await refusedStart(t, file), { code: 'ERR_SNAPSHOT_LOCKED', name: 'FileLockedError', file, todo: /use a different file/ });
  },
  async ERR_SNAPSHOT_UNUSABLE(t) {
    const file = join(tempDir(t), 'missing', 'sessions.db');
    const store = track(t, new esm.MemFileStore({ saveFile: file }));
    await store.ready.catch(() => undefined);
    const err = await callError(store, 'get', 'a');
    check(err, { code: 'ERR_SNAPSHOT_UNUSABLE', file, todo: /create it first/ });
    assert.equal(err.cause.code, 'ENOENT');
    assert.equal(err.cause.cause?.code, 'ENOENT', 'the fs error under it');
    assert.equal(err.cause.cause.syscall, 'lstat');
  },
  async ERR_JOURNAL_FAILED(t) {
    const file = join(tempDir(t), 'sessions.db');
    const fs = journalFs();
    const store = track(t, new esm.MemFileStore({ saveFile: file, savePeriod: 0, journal: 'always', fs }));
    await store.ready;
    fs.faults.journalWrite = 'ENOSPC';
    const event = nextEvent(store, 'error', 5000);
    const { err } = await settle(store, 'set', 'a', session({}));
    assert.equal(await event, err, "the 'error' event and the set's callback: one error");
    check(err, { code: 'ERR_JOURNAL_FAILED', name: 'JournalError', file: store.stats.persistence.journal.file, todo: /retried every second/, cause: 'ENOSPC' });
    assert.equal((await callError(store, 'destroy', 'a')).code, 'ERR_JOURNAL_FAILED', 'later changes: refused with it');
    fs.faults.journalWrite = null;
  },
  async ENOENT(t) {
    const file = join(tempDir(t), 'missing', 'sessions.db');
    check(await refusedStart(t, file), { code: 'ENOENT', file, todo: /does not exist \(create it first\)/, cause: 'ENOENT' });
  },
  async ENOTDIR(t) {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'data'), '');
    const file = join(dir, 'data', 'sessions.db');
    check(await refusedStart(t, file), { code: 'ENOTDIR', file, todo: /is a file, not a directory/, cause: 'ENOTDIR' });
  },
  async EISDIR(t) {
    const file = join(tempDir(t), 'data');
    mkdirSync(file);
    check(await refusedStart(t, file), { code: 'EISDIR', file, todo: /is a directory, not a file/, cause: 'EISDIR' });
    check(await refusedStart(t, `${file}/`), { code: 'EISDIR', file: `${file}/`, todo: /name the file in it/, cause: 'EISDIR' });
  },
  async ELOOP(t) {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'real.db'), LEGACY);
    symlinkSync(join(dir, 'real.db'), join(dir, 'sessions.db'));
    check(await refusedStart(t, join(dir, 'sessions.db')), { code: 'ELOOP', file: join(dir, 'sessions.db'), todo: /point saveFile at the real file/ });
  },
  async ENAMETOOLONG(t) {
    const file = join(tempDir(t), 's'.repeat(240));
    check(await refusedStart(t, file), { code: 'ENAMETOOLONG', file, todo: /use a name of at most 230 bytes/, cause: 'ENAMETOOLONG' });
  },
  async EINVAL(t) {
    const file = join(tempDir(t), 'sessions.db.lock');
    check(await refusedStart(t, file), { code: 'EINVAL', file, todo: /give it another name/, cause: 'EINVAL' });
  },
  async EEXIST(t) {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'sessions.db.lock'), LEGACY); // another app's 1.x saveFile, by the lock's name
    const file = join(dir, 'sessions.db');
    const err = await refusedStart(t, file);
    check(err, { code: 'EEXIST', file, todo: /Move it elsewhere .*, or give this saveFile another name/ });
    assert.equal(readFileSync(join(dir, 'sessions.db.lock'), 'utf8'), LEGACY, 'left untouched');
  },
  async EBUSY(t) {
    const dir = tempDir(t);
    const file = join(dir, 'sessions.db');
    writeFileSync(join(dir, 'mounted'), LEGACY);
    writeFileSync(file, '');
    if (spawnSync('mount', ['--bind', join(dir, 'mounted'), file]).status !== 0) return skipUnlessCi(t, 'mount --bind is not permitted here');
    try {
      check(await refusedStart(t, file), { code: 'EBUSY', file, todo: /Mount the directory that holds the file instead/, cause: 'EBUSY' });
    } finally {
      spawnSync('umount', [file]);
    }
  },
};

test('the README\'s error table lists every code the store sets, and each is driven here', () => {
  const documented = documentedCodes();
  const missing = [...codesInSource()].filter((code) => !documented.has(code));
  assert.deepEqual(missing, [], 'codes the store sets that the README does not list');
  assert.deepEqual([...documented].filter((code) => !Object.hasOwn(DRIVERS, code)), [], 'documented codes no test drives');
});

for (const [code, drive] of Object.entries(DRIVERS)) test(`${code}: code, class, message, cause`, (t) => drive(t));

test('a failed save: the same code through flush(), close() and the periodic save\'s \'error\' event, the fs error as cause', async (t) => {
  const dir = join(tempDir(t), 'data');
  mkdirSync(dir);
  const file = join(dir, 'sessions.db');
  const store = track(t, new esm.MemFileStore({ saveFile: file, savePeriod: 10, journal: false }));
  await store.ready;
  const event = nextEvent(store, 'error', 10_000);
  await settle(store, 'set', 'a', session({}));
  rmSync(dir, { recursive: true });
  const periodic = await event;
  const flushed = await store.flush().then(() => undefined, (e) => e);
  const closed = await store.close().then(() => undefined, (e) => e);
  for (const err of [periodic, flushed, closed]) {
    check(err, { code: 'ENOENT', file, todo: /could not save/, cause: 'ENOENT' });
  }
});
