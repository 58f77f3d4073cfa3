// More edges of express-memfilestore 1.x files (src/files/legacy-file.ts): null where a session or its cookie
// should be is refused like any other non-session, a 1.x file cut short is refused with a message that names a
// byte only when JSON.parse gives one, and a journal started after a 1.x file continues it at the next start
// (it names the file by its SHA-256) after a crash before the first snapshot.
// Found by mutation testing (npm run mutate -- src/files/legacy-file.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, HOUR, manualClock, session, sha256, tempDir, track } from './fixtures/persist/helpers.mjs';
import { crashCopy } from './fixtures/journal/helpers.mjs';

const clock = manualClock();
const cookie = (expires) => ({ originalMaxAge: null, expires, httpOnly: true, path: '/' });
const live = { cookie: cookie(new Date(clock.now + HOUR).toISOString()), user: 'a' };

async function load(t, text, options = {}) {
  const file = join(tempDir(t), 'sessions.json');
  writeFileSync(file, text);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, clock: clock.fn, ...options }));
  const err = await store.ready.then(() => undefined, (e) => e);
  return { file, store, err };
}

test('null as a session or as its cookie is not an express-session session: refused, naming the entry', async (t) => {
  for (const text of [JSON.stringify({ a: live, b: null }), JSON.stringify({ a: live, b: { cookie: null } })]) {
    const { err } = await load(t, text);
    assert.equal(err?.code, 'ERR_SNAPSHOT_DAMAGED', text);
    assert.match(err.message, /: entry 2 is not an express-session session \(an object with a cookie\): this is not an express-memfilestore 1\.x file\. /);
  }
});

test('a 1.x session that expired in 1970 (an expiry of 0 ms) is dropped, never kept as a session without expiry', async (t) => {
  const { store, err } = await load(t, JSON.stringify({
    a: live, epoch: { cookie: cookie('1970-01-01T00:00:00.000Z') }, zero: { cookie: cookie(0) },
  }));
  assert.equal(err, undefined);
  assert.deepEqual(await call(store, 'ids'), ['a']);
  // Had they been kept, 0 would read as "never expires": still there ten years later.
  clock.now += 10 * 365 * 24 * HOUR;
  assert.deepEqual(await call(store, 'ids'), []);
  clock.now -= 10 * 365 * 24 * HOUR;
});

test('a 1.x file cut short is refused as invalid JSON, with the byte only when JSON.parse names one', async (t) => {
  const whole = JSON.stringify({ a: live });
  // Cut after a colon: "Unexpected end of JSON input", without a position on Node 20.
  for (const cut of [1, 6, whole.indexOf(':') + 1, whole.length - 1]) {
    const { err } = await load(t, whole.slice(0, cut));
    assert.equal(err?.code, 'ERR_SNAPSHOT_DAMAGED');
    // Node 20 gives no position for an unexpected end, later versions do: either way no placeholder text.
    assert.match(err.message, /: it looks like an express-memfilestore 1\.x file but is not valid JSON(?: \(at byte \d+\))?\. The file was left untouched/);
  }
});

test('the load of a 1.x file reports its SHA-256, the identity a journal started after it names', async (t) => {
  const text = JSON.stringify({ a: live });
  const { store, err } = await load(t, text);
  assert.equal(err, undefined);
  assert.equal(store.stats.persistence.load.format, '1.x');
  assert.equal(store.stats.persistence.load.sha256, sha256(Buffer.from(text)));
});

test('changes journaled after a 1.x file are replayed at a restart before the first snapshot', async (t) => {
  const { file, store, err } = await load(t, JSON.stringify({ a: live }), { journal: 'always' });
  assert.equal(err, undefined);
  await call(store, 'set', 'b', session({ user: 'b' }));
  // What a crash leaves before the first save: the 1.x file and the journal (synced before the set returned),
  // copied while the store runs, as a restart on the same files would find them.
  const journals = readdirSync(dirname(file)).filter((name) => name.startsWith(`${basename(file)}.journal.`));
  assert.equal(journals.length, 1, journals.join());
  const copy = crashCopy(t, file);
  assert.ok(readFileSync(copy, 'utf8').startsWith('{'), 'the 1.x file was not replaced yet');
  const again = track(t, new MemFileStore({ saveFile: copy, savePeriod: 0, clock: clock.fn }));
  await again.ready;
  assert.equal(again.stats.persistence.load.format, '1.x');
  assert.equal(again.stats.persistence.load.journalRecords, 1);
  assert.deepEqual((await call(again, 'ids')).sort(), ['a', 'b']);
});
