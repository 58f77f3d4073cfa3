// Edges of reading express-memfilestore 1.x files, found by mutation testing (npm run mutate --
// src/files/legacy-file.ts): how a 1.x file is recognised, each expiry form, and what a refusal names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, HOUR, manualClock, tempDir, track } from './fixtures/persist/helpers.mjs';

const clock = manualClock();
const cookie = (expires) => ({ originalMaxAge: null, expires, httpOnly: true, path: '/' });

async function load(t, text, options = {}) {
  const file = join(tempDir(t), 'sessions.json');
  writeFileSync(file, text);
  // Written by 1.x "now" on the store's clock: a browser-session cookie's lifetime counts from the file's time.
  utimesSync(file, clock.now / 1000, clock.now / 1000);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, clock: clock.fn, ...options }));
  const err = await store.ready.then(() => undefined, (e) => e);
  return { store, err };
}

test('a 1.x file is recognised after leading spaces, tabs and newlines', async (t) => {
  const body = JSON.stringify({ a: { cookie: cookie(new Date(clock.now + HOUR).toISOString()), user: 'a' } });
  for (const lead of [' ', '\n', '\r\n', '\t', ' \t\r\n ']) {
    const { store, err } = await load(t, `${lead}${body}`);
    assert.equal(err, undefined, JSON.stringify(lead));
    assert.equal((await call(store, 'get', 'a')).user, 'a');
    assert.equal(store.stats.persistence.load.format, '1.x');
  }
});

test('a file of only whitespace is not taken for a 1.x file: refused as a damaged snapshot', async (t) => {
  const { err } = await load(t, ' \n\t');
  assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
  assert.doesNotMatch(err.message, /1\.x/);
});

test('expiry of a 1.x session: an ISO date or a number of ms; exactly now or before is dropped; anything else is a browser session', async (t) => {
  const { store, err } = await load(t, JSON.stringify({
    iso: { cookie: cookie(new Date(clock.now + HOUR).toISOString()) },
    ms: { cookie: cookie(clock.now + 2 * HOUR) },
    now: { cookie: cookie(clock.now) },
    msNow: { cookie: cookie(new Date(clock.now).toISOString()) },
    bool: { cookie: cookie(true) },
  }), { ttl: 3 * HOUR });
  assert.equal(err, undefined);
  assert.deepEqual((await call(store, 'ids')).sort(), ['bool', 'iso', 'ms']);
  clock.now += HOUR;
  assert.deepEqual((await call(store, 'ids')).sort(), ['bool', 'ms'], 'iso expired at its date');
  clock.now += HOUR;
  assert.deepEqual(await call(store, 'ids'), ['bool'], 'ms expired at its number');
  clock.now += HOUR;
  assert.deepEqual(await call(store, 'ids'), [], 'the browser session got the ttl');
  clock.now -= 3 * HOUR;
});

test('refusals name the entry and the reason', async (t) => {
  const live = { cookie: cookie(new Date(clock.now + HOUR).toISOString()) };
  const cases = [
    ['{"a": {"cookie": {}},}', /not valid JSON \(at byte 21\)/],
    [JSON.stringify({ a: live, b: 5 }), /entry 2 is not an express-session session/],
    [JSON.stringify({ a: live, b: { user: 'b' } }), /entry 2 is not an express-session session/],
    [`{"a": ${JSON.stringify(live)}, "\\ud800": ${JSON.stringify(live)}}`, /session 2 of the express-memfilestore 1\.x file cannot be converted: its id has a lone surrogate/],
  ];
  for (const [text, message] of cases) {
    const { err } = await load(t, text);
    assert.equal(err?.code, 'ERR_SNAPSHOT_DAMAGED', text);
    assert.match(err.message, message);
  }
  const numbers = { stringify: () => 5, parse: JSON.parse };
  const { err } = await load(t, JSON.stringify({ a: live }), { serializer: numbers });
  assert.match(err.message, /session 1 of the express-memfilestore 1\.x file cannot be converted: the serializer returned number, not a string/);
});
