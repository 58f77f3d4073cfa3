// Names that collide with the files a store keeps beside its saveFile (`<saveFile>.lock`, `<saveFile>.journal.<n>`,
// `<saveFile>.tmp-<pid>-<random>`). 1.x made no files beside its saveFile, so two 1.x apps could use `sessions.json`
// and `sessions.json.lock` (or `.journal.1`) in one directory. Upgraded, the store on `sessions.json` removed the other
// app's file, taking it for a stale lock or a journal a crash left, and the other app lost its sessions, silently; a
// store on `a.journal.5` lost its snapshot to the journal cleanup of a store on `a`. A start must refuse a saveFile
// named so, and leave a file by one of those names that is not the store's own untouched, refusing to start beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';

const LEGACY = JSON.stringify({ other: { cookie: { originalMaxAge: 3_600_000, expires: '2999-01-01T00:00:00.000Z' }, user: 'eve' } });

async function refusal(store) {
  return store.ready.then(() => assert.fail('ready resolved'), (err) => err);
}

for (const name of ['sessions.json.lock', 'sessions.json.journal.3', 'sessions.json.tmp-123-0123456789ab']) {
  test(`a saveFile named as a store's own file beside another saveFile ("${name}") is refused at start`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, name);
    const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
    const err = await refusal(store);
    assert.equal(err.code, 'EINVAL', err.stack);
    assert.ok(err.message.includes(`"${file}"`), `names the file: ${err.message}`);
    assert.ok(err.message.includes('"sessions.json"'), `names the saveFile it would collide with: ${err.message}`);
    assert.match(err.message, /another name/, err.message);
    assert.deepEqual(readdirSync(dir), [], 'nothing is created');
  });
}

test('a store started beside a 1.x app\'s file named as its lock refuses to start and leaves that file alone', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.json');
  writeFileSync(file, LEGACY);
  const other = `${file}.lock`;
  writeFileSync(other, LEGACY);
  const past = new Date(Date.now() - 60_000); // long past the grace an empty lock being written gets
  utimesSync(other, past, past);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  const err = await refusal(store);
  assert.equal(err.code, 'EEXIST', err.stack);
  assert.ok(err.message.includes(`"${other}"`), `names the other file: ${err.message}`);
  assert.match(err.message, /not a lock/, err.message);
  assert.equal(readFileSync(other, 'utf8'), LEGACY, 'the other app\'s file is left untouched');
  assert.deepEqual(readdirSync(dir).sort(), ['sessions.json', 'sessions.json.lock']);
});

for (const gen of [1, 7]) {
  test(`a store started beside a 1.x app's file named as its journal ${gen} refuses to start and leaves it alone`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'sessions.json');
    const other = `${file}.journal.${gen}`;
    writeFileSync(other, LEGACY);
    const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
    const err = await store.ready.then(async () => {
      // Before the fix it started: the save below removed the file (or the start had already).
      await call(store, 'set', 'a', session({ user: 'ann' }));
      await store.close();
      return undefined;
    }, (e) => e);
    assert.deepEqual(readdirSync(dir).filter((n) => n !== 'sessions.json'), [`sessions.json.journal.${gen}`], 'the other file is still there');
    assert.equal(readFileSync(other, 'utf8'), LEGACY, 'and untouched');
    assert.equal(err?.code, 'EEXIST', err?.stack ?? 'the store started beside it');
    assert.ok(err.message.includes(`"${other}"`), `names the other file: ${err.message}`);
    assert.match(err.message, /has the name of one of its journals, but holds sessions/, err.message);
  });
}

test('two stores on "a" and "a.journal.5": the second one is refused, the first one\'s files and sessions are kept', async (t) => {
  const dir = tempDir(t);
  const a = track(t, new MemFileStore({ saveFile: join(dir, 'a'), savePeriod: 0 }));
  await a.ready;
  const b = track(t, new MemFileStore({ saveFile: join(dir, 'a.journal.5'), savePeriod: 0 }));
  assert.equal((await refusal(b)).code, 'EINVAL');
  await call(a, 'set', 'x', session({ user: 'ann' }));
  await a.close();
  const again = track(t, new MemFileStore({ saveFile: join(dir, 'a'), savePeriod: 0 }));
  await again.ready;
  assert.deepEqual(await call(again, 'ids'), ['x']);
});
