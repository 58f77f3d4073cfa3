// Upgrading from express-memfilestore 1.x: fixtures/persist/sessions-1.7.1.json was written by the real
// express-memfilestore 1.7.1 behind express + express-session (see fixtures/persist/README.md): one JSON
// object sid -> session, most recently used first. It loads with expiry from cookie.expires, expired
// sessions dropped, browser-session cookies given the default TTL from when 1.x wrote the file; the next save
// writes the new format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, DAY, decodeSnapshot, FIXTURES, HOUR, manualClock, nextEvent, tempDir, track } from './fixtures/persist/helpers.mjs';

const FIXTURE = join(FIXTURES, 'sessions-1.7.1.json');
const legacy = JSON.parse(readFileSync(FIXTURE, 'utf8'));
const sid = Object.fromEntries(Object.entries(legacy).map(([id, s]) => [s.user, id]));
const expiresOf = (user) => Date.parse(legacy[sid[user]].cookie.expires);
// "Now" is just after dave's cookie expired; the others are live, carol's is a browser-session cookie.
const NOW = expiresOf('dave') + 1000;

function setup(t) {
  const file = join(tempDir(t), 'sessions.db');
  copyFileSync(FIXTURE, file);
  // As if 1.x wrote it at NOW (when it stopped): browser-session lifetimes count from the file's time.
  utimesSync(file, NOW / 1000, NOW / 1000);
  return file;
}

async function open(t, options) {
  const store = track(t, new MemFileStore({ savePeriod: 0, ...options }));
  await store.ready;
  return store;
}

test('the 1.7.1 fixture is what the cases below assume', () => {
  assert.deepEqual(Object.values(legacy).map((s) => s.user), ['carol', 'alice', 'erin', 'dave', 'bob']);
  assert.equal(legacy[sid.carol].cookie.expires, null);
  for (const user of ['alice', 'erin', 'bob']) assert.ok(expiresOf(user) > NOW, user);
});

test('a 1.7.1 file loads: live sessions with expiry from cookie.expires, expired ones dropped, LRU order kept', async (t) => {
  const file = setup(t);
  const clock = manualClock(NOW);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, clock: clock.fn }));
  const load = await nextEvent(store, 'load');
  await store.ready;
  assert.equal(load.format, '1.x');
  assert.equal(load.sessions, 4);
  // 1.x wrote most recently used first: the order comes back.
  assert.deepEqual(await call(store, 'ids'), [sid.carol, sid.alice, sid.erin, sid.bob]);
  assert.equal(await call(store, 'get', sid.dave), undefined, 'dave expired while the app was down');
  for (const user of ['alice', 'bob', 'carol', 'erin']) {
    assert.deepEqual(await call(store, 'get', sid[user]), legacy[sid[user]], user);
  }
  assert.equal((await call(store, 'get', sid.erin)).note, 'line1\nline2 ünïcødé 🍪 "quoted"');

  // Expiry is the cookie's: erin's session ends when her cookie does.
  clock.now = expiresOf('erin') - 1;
  assert.ok(await call(store, 'get', sid.erin));
  clock.now = expiresOf('erin') + 1;
  assert.equal(await call(store, 'get', sid.erin), undefined);
  assert.ok(await call(store, 'get', sid.alice));
});

test('after a 1.x load the next flush() writes the new format, with the right expiries', async (t) => {
  const file = setup(t);
  const store = await open(t, { saveFile: file, clock: () => NOW });
  assert.equal(store.stats.persistence.changesSinceSave > 0, true, 'a 1.x file is due to be rewritten');
  await store.flush(); // nothing changed in memory, yet the file must be converted
  const bytes = readFileSync(file);
  assert.match(bytes.toString('utf8').split('\n')[0], /^express-memfilestore-snapshot 2 /);
  const { records } = decodeSnapshot(bytes);
  assert.deepEqual(records.map((r) => r.id), [sid.bob, sid.erin, sid.alice, sid.carol], 'least recently used first');
  const expires = Object.fromEntries(records.map((r) => [r.id, r.expires]));
  assert.equal(expires[sid.alice], expiresOf('alice'));
  assert.equal(expires[sid.bob], expiresOf('bob'));
  assert.equal(expires[sid.erin], expiresOf('erin'));
  assert.equal(expires[sid.carol], NOW + DAY, 'a browser-session cookie gets the default TTL, one day');
  for (const r of records) assert.deepEqual(JSON.parse(r.value), legacy[r.id]);
  await store.close();

  const again = await open(t, { saveFile: file, clock: () => NOW + 1000 });
  assert.equal(again.stats.persistence.load.format, 'v2');
  assert.deepEqual(await call(again, 'ids'), [sid.carol, sid.alice, sid.erin, sid.bob]);
});

test('after a 1.x load the periodic save converts the file too', async (t) => {
  const file = setup(t);
  const store = await open(t, { saveFile: file, savePeriod: 10, clock: () => NOW });
  await nextEvent(store, 'save');
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.length, 4);
});

test('browser-session cookies from 1.x get the numeric ttl option when there is one (0: never expires)', async (t) => {
  const file = setup(t);
  const store = await open(t, { saveFile: file, clock: () => NOW, ttl: 2 * HOUR });
  await store.close();
  const expires = Object.fromEntries(decodeSnapshot(readFileSync(file)).records.map((r) => [r.id, r.expires]));
  assert.equal(expires[sid.carol], NOW + 2 * HOUR);
  assert.equal(expires[sid.alice], expiresOf('alice'), 'a cookie with an expiry keeps it');

  copyFileSync(FIXTURE, file);
  const forever = await open(t, { saveFile: file, clock: () => NOW, ttl: 0 });
  await forever.close();
  const never = Object.fromEntries(decodeSnapshot(readFileSync(file)).records.map((r) => [r.id, r.expires]));
  assert.equal(never[sid.carol], 0);
});

test('a 1.x file loaded long after its cookies expired: they are gone; the browser-session one gets a day from the file\'s time', async (t) => {
  const file = setup(t);
  const later = expiresOf('bob') + 1;
  // 1.x wrote the file an hour before this start (it ran until then).
  utimesSync(file, (later - HOUR) / 1000, (later - HOUR) / 1000);
  const store = await open(t, { saveFile: file, clock: () => later });
  assert.deepEqual(await call(store, 'ids'), [sid.carol]);
  await store.close();
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => [r.id, r.expires]), [[sid.carol, later - HOUR + DAY]]);
});

test('a browser-session cookie from 1.x lives the default lifetime from when 1.x wrote the file, not from each start', async (t) => {
  // The file is converted again at every start until a save replaces it: a crash before that save must not give carol
  // a fresh day at each restart (1.x's own defect: sessions that expired while it was down came back).
  const file = setup(t);
  const written = NOW - HOUR;
  const crashed = join(tempDir(t), 'sessions.db'); // the files as a crash before the first save leaves them
  copyFileSync(file, crashed);
  for (const f of [file, crashed]) utimesSync(f, written / 1000, written / 1000);
  const store = await open(t, { saveFile: file, clock: () => NOW });
  await store.close();
  const expires = Object.fromEntries(decodeSnapshot(readFileSync(file)).records.map((r) => [r.id, r.expires]));
  assert.equal(expires[sid.carol], written + DAY);
  // Started again from the crash's files two days after 1.x wrote them: carol expired while the process was down.
  const later = await open(t, { saveFile: crashed, clock: () => written + 2 * DAY });
  assert.equal(await call(later, 'get', sid.carol), undefined);
  assert.equal(later.stats.persistence.load.format, '1.x');
  await later.close();

  // A file dated after the store's clock (a clock set back since): the lifetime counts from now, never from later.
  const ahead = setup(t);
  utimesSync(ahead, (NOW + DAY) / 1000, (NOW + DAY) / 1000);
  const fromNow = await open(t, { saveFile: ahead, clock: () => NOW });
  await fromNow.close();
  assert.equal(Object.fromEntries(decodeSnapshot(readFileSync(ahead)).records.map((r) => [r.id, r.expires]))[sid.carol], NOW + DAY);
});

test('a serializer throwing a non-Error while a 1.x file is converted: ready rejects naming the session and what was thrown', async (t) => {
  const file = setup(t);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, serializer: { stringify() { throw 'no strings today'; }, parse: JSON.parse } }));
  await assert.rejects(store.ready, { code: 'ERR_SNAPSHOT_DAMAGED', message: /session 1 of the express-memfilestore 1\.x file cannot be converted: no strings today/ });
});
