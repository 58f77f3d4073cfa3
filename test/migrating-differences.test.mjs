// README "Migrating", as it now states the differences a differential run found (memorystore 1.6.8 and express-memfilestore
// 1.7.1 driven with the same calls as this package): each listed difference holds as written, and the way back to 1.x
// (the README's export pipeline) gives a file of 1.x's format that a store reads back as one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import session from 'express-session';
import memFileStore, { MemFileStore } from 'express-memfilestore';
import { FIXTURES, manualClock, session as sess } from './fixtures/persist/helpers.mjs';
import { call, callError, settle } from './fixtures/store-calls.mjs';
import { BIN, tempDir } from './fixtures/cli/helpers.mjs';

const require = createRequire(import.meta.url);
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const HOUR = 3_600_000;

function openStore(t, options) {
  const store = new MemFileStore(options);
  t.after(() => store.close());
  return store;
}

test('an id that is not a string or a finite number calls back with a TypeError, destroy included', async (t) => {
  const store = openStore(t);
  for (const id of [undefined, null, NaN, {}]) {
    for (const [method, ...args] of [['get'], ['set', sess({})], ['touch', sess({})], ['destroy']]) {
      const err = await callError(store, method, id, ...args);
      assert.ok(err instanceof TypeError, `${method}(${String(id)})`);
    }
  }
});

test('a ttl function returning null, undefined or a numeric string fails that set and touch; a throw reaches the callback', async (t) => {
  for (const value of [null, undefined, '60000']) {
    let result = 60_000;
    const store = openStore(t, { ttl: () => result });
    await call(store, 'set', 'a', sess({ v: 1 }));
    result = value;
    for (const method of ['set', 'touch']) assert.ok(await callError(store, method, 'a', sess({ v: 2 })) instanceof TypeError);
  }
  const store = openStore(t, { ttl: (options, s) => s.cookie.originalMaxAge ?? 86_400_000 });
  await call(store, 'set', 'browser', { cookie: { originalMaxAge: null, expires: null, path: '/' } });
  assert.ok(await call(store, 'get', 'browser'), 'the README\'s fallback stores a browser-session cookie');
  const throwing = openStore(t, { ttl: () => { throw new Error('boom'); } });
  assert.equal((await callError(throwing, 'set', 'a', sess({}))).message, 'boom');
});

test('a serializer whose stringify keeps the object makes set call back with a TypeError', async (t) => {
  const store = openStore(t, { serializer: { stringify: (s) => s, parse: (s) => s } });
  assert.ok(await callError(store, 'set', 'a', sess({})) instanceof TypeError);
  assert.equal(await call(store, 'length'), 0);
});

test('ids() lists live sessions only; all() leaves the expired ones for the prune; with stale, too, and touch does not revive', async (t) => {
  for (const stale of [false, true]) {
    const clock = manualClock();
    const store = openStore(t, { clock: clock.fn, stale });
    await call(store, 'set', 'short', sess({}, 1_000));
    await call(store, 'set', 'long', sess({}, HOUR));
    clock.now += 2_000;
    assert.deepEqual(await call(store, 'ids'), ['long'], `stale ${stale}`);
    assert.deepEqual(Object.keys(await call(store, 'all')), ['long']);
    assert.equal(await call(store, 'length'), 2, 'all() deleted nothing');
    assert.equal((await settle(store, 'touch', 'short', sess({}, HOUR))).err, null);
    assert.deepEqual(await call(store, 'ids'), ['long'], 'touch of an expired session does not bring it back');
  }
});

test('store.store: keys() and values() are iterators, a number as set\'s third argument throws', async (t) => {
  const store = openStore(t);
  await call(store, 'set', 'a', sess({}));
  await call(store, 'set', 'b', sess({}));
  assert.ok(!Array.isArray(store.store.keys()));
  assert.deepEqual([...store.store.keys()], ['b', 'a']);
  assert.equal([...store.store.values()].length, 2);
  // lru-cache 4's length and prune() are kept as aliases (test/store-cache-lru4-names.test.mjs).
  assert.equal(store.store.length, 2);
  assert.equal(typeof store.store.purgeStale, 'function');
  assert.throws(() => store.store.set('c', JSON.stringify(sess({})), 60_000), TypeError);
  assert.equal(typeof store.store.dump()[0][1], 'object', 'lru-cache 11 dump entries are [key, { value, ttl, ... }]');
});

test('dispose gets the reason as a third argument', async (t) => {
  const calls = [];
  const store = openStore(t, { max: 1, dispose: (...args) => calls.push(args.length === 3 ? args[2] : 'two arguments') });
  await call(store, 'set', 'a', sess({ v: 1 }));
  await call(store, 'set', 'a', sess({ v: 2 }));
  await call(store, 'set', 'b', sess({}));
  await call(store, 'destroy', 'b');
  assert.deepEqual(calls, ['set', 'evict', 'delete']);
});

test('store.options holds maxSize, saveFile, savePeriod and journal too; ttl: false reads as undefined', (t) => {
  const store = openStore(t, { ttl: false });
  assert.deepEqual(Object.keys(store.options).sort(), [
    'checkPeriod', 'dispose', 'journal', 'max', 'maxSize', 'noDisposeOnSet', 'saveFile', 'savePeriod', 'stale', 'ttl',
  ]);
  assert.equal(store.options.ttl, undefined);
});

test('the factory returns one class, extending the express-session this package resolves, whatever Store it is given', (t) => {
  const Bare = { Store: class {} };
  assert.equal(memFileStore(Bare), MemFileStore);
  assert.equal(memFileStore(session), memFileStore(session));
  const store = openStore(t, {});
  assert.ok(store instanceof session.Store);
  assert.ok(!(store instanceof Bare.Store));
  assert.equal(require('express-memfilestore')(session), MemFileStore);
});

test('"Going back to 1.x": the README\'s pipeline writes a 1.x file of the live sessions, which a store reads back as 1.x', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const store = new MemFileStore({ saveFile: file });
  const sessions = {
    a: sess({ user: 'ann' }),
    42: { cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' }, user: 'bob' },
    'Zoë "q"': sess({ note: 'é😀\u2028' }),
  };
  sessions.a.cookie.expires = new Date(Date.now() + HOUR).toISOString();
  sessions['Zoë "q"'].cookie.expires = new Date(Date.now() + HOUR).toISOString();
  for (const [id, s] of Object.entries(sessions)) await call(store, 'set', id, s);
  await call(store, 'set', 'gone', sess({}, 1));
  await new Promise((resolve) => setTimeout(resolve, 5));
  await store.close();

  // The block as the README prints it, with the command line this clone builds in place of npx.
  const block = README.match(/\*\*Going back to 1\.x\*\*[\s\S]*?```sh\n([\s\S]*?)```/)[1];
  const [exportCmd, convert] = block.split(' | ');
  assert.equal(exportCmd, 'npx express-memfilestore export sessions.db --out -');
  const script = convert.match(/^node -e '([\s\S]*)'\s*$/)[1];
  const exported = execFileSync(process.execPath, [BIN, 'export', 'sessions.db', '--out', '-'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  execFileSync(process.execPath, ['-e', script], { cwd: dir, input: exported });

  const legacy = JSON.parse(readFileSync(join(dir, 'sessions.1x.json'), 'utf8'));
  const expected = JSON.parse(JSON.stringify(sessions));
  assert.deepEqual(legacy, expected, 'one JSON object of the live sessions, as 1.x writes it');
  const fixture = JSON.parse(readFileSync(join(FIXTURES, 'sessions-1.7.1.json'), 'utf8'));
  assert.equal(typeof Object.values(fixture)[0].cookie, 'object', 'the shape of a file 1.7.1 wrote');

  const back = new MemFileStore({ saveFile: join(dir, 'sessions.1x.json') });
  const loaded = new Promise((resolve) => back.once('load', resolve));
  await back.ready;
  assert.equal((await loaded).format, '1.x');
  assert.deepEqual(await call(back, 'all'), expected);
  await back.close(); // before the directory is removed
});
