// Bad input (issue 5, item 5), beyond test/store-methods.test.mjs (invalid ids for get/set/touch/destroy),
// test/store-options.test.mjs (throwing and non-string serializers, circular sessions) and
// test/store-callbacks.test.mjs (throwing callbacks, memory-only): ids of every JS type on a store with a
// file, empty and 1 MB ids, 10 MB sessions with and without maxSize, sessions without a usable cookie,
// values JSON cannot serialize, serializers throwing non-Errors or parsing to odd values, throwing
// callbacks and listeners on a persistent store (in a child process), expiries and ids the snapshot format
// must carry.
//
// After each: the error reaches the caller that caused it, exactly once, never thrown synchronously; the
// other sessions are unharmed (a digest of ids + all() before and after; without the recency order where a
// failing get or touch still marks its session used); and a save then a load (close, new store on the file)
// gives back the same sessions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, callError, captureWarnings, DAY, decodeSnapshot, HOUR, manualClock, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { callOnce, contents, digest, FAULTS_CHILD, runNode } from './fixtures/faults/lib.mjs';

const SEEDS = [['keep-1', session({ user: 'one', n: 1 })], ['keep-2', session({ user: 'two', n: 2 })], ['keep-3', session({ user: 'three' })]];

/** A store with a file, holding three sessions; `reopen()` closes it and opens a new one on the file. */
async function seeded(t, options = {}) {
  const file = join(tempDir(t), 'sessions.db');
  const clock = manualClock();
  const open = async () => {
    const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, clock: clock.fn, ...options }));
    await store.ready;
    return store;
  };
  const ctx = { file, clock, store: await open() };
  for (const [id, sess] of SEEDS) await call(ctx.store, 'set', id, sess);
  ctx.before = await digest(ctx.store);
  ctx.beforeUnordered = await digest(ctx.store, { order: false });
  /** Save, load in a new store, and check it holds exactly what the old one did. */
  ctx.roundTrip = async () => {
    const expected = await contents(ctx.store);
    await ctx.store.close();
    ctx.store = await open();
    assert.deepEqual(await contents(ctx.store), expected, 'save then load gives back the same sessions');
    return expected;
  };
  return ctx;
}

/** The call must call back exactly once with an error of `type` (and `message`), never throw. */
async function expectError(store, type, method, ...args) {
  let result;
  assert.doesNotThrow(() => {
    result = callOnce(store, method, ...args);
  }, `${method} threw synchronously`);
  const { calls, err } = await result;
  assert.equal(calls, 1, `${method}: called back exactly once`);
  assert.ok(err instanceof type, `${method}: ${type.name} expected, got ${err?.stack ?? err}`);
  return err;
}

describe('ids of every JS type', () => {
  const INVALID = [
    ['undefined', undefined], ['null', null], ['true', true], ['false', false], ['a symbol', Symbol('a')],
    ['an object', { id: 'keep-1' }], ['an object whose toString names a stored session', { toString: () => 'keep-1' }],
    ['an object with a null prototype', Object.create(null)], ['a boxed string', Object('keep-1')], ['a boxed number', Object(1)],
    ['a Date', new Date(0)], ['a function', () => 'keep-1'], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity],
    ['a Proxy whose every trap throws', new Proxy({}, new Proxy({}, { get: () => () => { throw new Error('trap'); } }))],
  ];
  for (const [labelText, bad] of INVALID) {
    test(`${labelText}: a TypeError once to get, set, touch and destroy; nothing else harmed; the file round-trips`, async (t) => {
      const ctx = await seeded(t);
      await expectError(ctx.store, TypeError, 'get', bad);
      await expectError(ctx.store, TypeError, 'set', bad, session({ user: 'intruder' }));
      await expectError(ctx.store, TypeError, 'touch', bad, session({ user: 'intruder' }, 10 * DAY));
      await expectError(ctx.store, TypeError, 'destroy', bad);
      // One bad id in an array: nothing is deleted, not even the good ids before it.
      await expectError(ctx.store, TypeError, 'destroy', ['keep-1', bad, 'keep-2']);
      assert.equal(await digest(ctx.store), ctx.before, 'the other sessions are unharmed');
      await ctx.roundTrip();
      assert.equal(await digest(ctx.store), ctx.before);
    });
  }
  test('an array as id names no session for get, set and touch (only destroy takes a list)', async (t) => {
    const ctx = await seeded(t);
    await expectError(ctx.store, TypeError, 'get', ['keep-1']);
    await expectError(ctx.store, TypeError, 'set', ['keep-1'], session({ user: 'intruder' }));
    await expectError(ctx.store, TypeError, 'touch', ['keep-1'], session({}));
    await expectError(ctx.store, TypeError, 'destroy', [['keep-1']]);
    assert.equal(await digest(ctx.store), ctx.before);
  });

  const CONVERTED = [['-0', -0, '0'], ['0', 0, '0'], ['a negative number', -7, '-7'], ['a fraction', 1.5, '1.5'],
    ['a number past 2^53 (as String() prints it)', 2 ** 60, '1152921504606847000'], ['a number printed with an exponent', 1e21, '1e+21'],
    ['a bigint (accepted and converted, as the README says)', 12345678901234567890n, '12345678901234567890']];
  for (const [labelText, raw, id] of CONVERTED) {
    test(`${labelText} names the session "${id}", before and after a restart`, async (t) => {
      const ctx = await seeded(t);
      assert.equal((await callOnce(ctx.store, 'set', raw, session({ user: labelText }))).calls, 1);
      assert.deepEqual(await call(ctx.store, 'get', id), session({ user: labelText }));
      assert.deepEqual(await call(ctx.store, 'get', raw), session({ user: labelText }));
      assert.equal((await call(ctx.store, 'ids'))[0], id);
      await ctx.roundTrip();
      assert.deepEqual(await call(ctx.store, 'get', raw), session({ user: labelText }));
      await call(ctx.store, 'destroy', raw);
      assert.equal(await digest(ctx.store), ctx.before);
    });
  }
});

describe('empty and very long ids', () => {
  test('the empty id is a session like any other, through a restart', async (t) => {
    const ctx = await seeded(t);
    await call(ctx.store, 'set', '', session({ user: 'nobody' }));
    await call(ctx.store, 'touch', '', session({}, 2 * HOUR));
    assert.equal((await call(ctx.store, 'get', '')).user, 'nobody');
    await ctx.roundTrip();
    assert.equal((await call(ctx.store, 'get', '')).cookie.maxAge, 2 * HOUR);
    await call(ctx.store, 'destroy', '');
    assert.equal(await digest(ctx.store), ctx.before);
  });

  test('a 1 MB id (with newlines and multi-byte characters) round-trips; over maxSize it is a RangeError once', async (t) => {
    const longId = `${'x'.repeat(500_000)}\n${'é'.repeat(250_000)}\nend 0 ${'0'.repeat(64)}`;
    const ctx = await seeded(t);
    await call(ctx.store, 'set', longId, session({ user: 'long' }));
    await ctx.roundTrip();
    assert.equal((await call(ctx.store, 'get', longId)).user, 'long');
    assert.equal((await call(ctx.store, 'ids'))[0], longId);
    await call(ctx.store, 'destroy', longId);
    assert.equal(await digest(ctx.store), ctx.before);

    const small = await seeded(t, { maxSize: 500_000 });
    const err = await expectError(small.store, RangeError, 'set', longId, session({ user: 'long' }));
    assert.match(err.message, /maxSize/);
    assert.ok(!err.message.includes('xxxxxxxxxx'), 'the error does not quote the id');
    assert.equal(await digest(small.store), small.before);
    await small.roundTrip();
  });
});

// Timeouts that only bound a hang: each test took 14-15 s of its former 30 s at load average 15.
describe('very large sessions', () => {
  const big = (tag, mb = 10) => session({ user: tag, blob: tag[0].repeat(mb * 1024 * 1024) });
  const hash = (value) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

  test('a 10 MB session without maxSize: stored, served, saved and loaded whole', { timeout: 120_000 }, async (t) => {
    const ctx = await seeded(t);
    const sess = big('big');
    await call(ctx.store, 'set', 'big', sess);
    assert.equal(hash(await call(ctx.store, 'get', 'big')), hash(sess));
    await ctx.roundTrip();
    assert.equal(hash(await call(ctx.store, 'get', 'big')), hash(sess));
    assert.equal(decodeSnapshot(readFileSync(ctx.file)).records.length, 4);
    await call(ctx.store, 'destroy', 'big');
    assert.equal(await digest(ctx.store), ctx.before);
  });

  test('a 10 MB session over maxSize (5 MB): a RangeError once, nothing stored or evicted', { timeout: 120_000 }, async (t) => {
    const ctx = await seeded(t, { maxSize: 5 * 1024 * 1024 });
    await call(ctx.store, 'set', 'big', session({ user: 'small version' }));
    const before = await digest(ctx.store);
    await expectError(ctx.store, RangeError, 'set', 'big', big('big'));
    assert.equal(await digest(ctx.store), before, 'the old version and the others stay');
    await ctx.roundTrip();
  });

  test('10 MB sessions under maxSize 12 MB: the least recently used make room; the file agrees', { timeout: 120_000 }, async (t) => {
    const ctx = await seeded(t, { maxSize: 12 * 1024 * 1024 });
    await call(ctx.store, 'set', 'big-1', big('big-1'));
    assert.deepEqual(await call(ctx.store, 'ids'), ['big-1', 'keep-3', 'keep-2', 'keep-1']);
    await call(ctx.store, 'get', 'keep-1');
    await call(ctx.store, 'set', 'big-2', big('big-2'));
    assert.deepEqual(await call(ctx.store, 'ids'), ['big-2', 'keep-1'], 'big-1 and the older small sessions were evicted');
    await ctx.roundTrip();
    assert.equal(hash(await call(ctx.store, 'get', 'big-2')), hash(big('big-2')));
  });
});

describe('sessions without a usable cookie', () => {
  test('no cookie, cookie null, cookie a string, maxAge a string or NaN: stored for one day, served as given', async (t) => {
    const ctx = await seeded(t);
    const odd = [['no-cookie', { user: 'a' }], ['null-cookie', { cookie: null, user: 'b' }], ['string-cookie', { cookie: 'yes', user: 'c' }],
      ['string-maxage', { cookie: { maxAge: '1000' }, user: 'd' }], ['nan-maxage', { cookie: { maxAge: null, expires: 'soon' }, user: 'e' }]];
    for (const [id, sess] of odd) assert.equal((await callOnce(ctx.store, 'set', id, sess)).err, null, id);
    for (const [id, sess] of odd) assert.deepEqual(await call(ctx.store, 'get', id), sess, id);
    await ctx.roundTrip();
    const odds = async () => (await call(ctx.store, 'ids')).filter((id) => !id.startsWith('keep')).sort();
    ctx.clock.now += DAY - 1;
    assert.deepEqual(await odds(), odd.map(([id]) => id).sort(), 'kept for a day (the default lifetime)');
    ctx.clock.now += 1;
    assert.deepEqual(await odds(), [], 'one day later they are gone');
  });

  test('sessions that are not objects (null, a string, a number, an array) are stored as serialized; undefined is a TypeError once', async (t) => {
    const ctx = await seeded(t);
    for (const [id, sess] of [['null', null], ['string', 'just text'], ['number', 42], ['array', [1, 2]]]) {
      assert.equal((await callOnce(ctx.store, 'set', id, sess)).err, null, id);
      assert.deepEqual(await call(ctx.store, 'get', id), sess, id);
    }
    await expectError(ctx.store, TypeError, 'set', 'undefined', undefined);
    await ctx.roundTrip();
    assert.deepEqual(await call(ctx.store, 'get', 'array'), [1, 2]);
    await call(ctx.store, 'destroy', ['null', 'string', 'number', 'array']);
    assert.equal(await digest(ctx.store), ctx.before);
  });
});

describe('values that cannot be serialized', () => {
  const boom = new Error('boom from a getter');
  const cases = [
    ['a BigInt in the session', () => session({ n: 1n }), TypeError],
    ['a toJSON that throws', () => session({ x: { toJSON() { throw boom; } } }), Error, boom],
    ['a getter that throws', () => Object.defineProperty(session({}), 'x', { get() { throw boom; }, enumerable: true }), Error, boom],
    ['a cookie getter that throws (read for the TTL)', () => Object.defineProperty({ user: 'x' }, 'cookie', { get() { throw boom; }, enumerable: true }), Error, boom],
    ['a cookie.maxAge getter that throws', () => ({ cookie: Object.defineProperty({}, 'maxAge', { get() { throw boom; } }) }), Error, boom],
    ['a Proxy session whose ownKeys trap throws', () => new Proxy(session({}), { ownKeys() { throw boom; } }), Error, boom],
    ['a session whose toJSON returns undefined', () => ({ cookie: {}, toJSON: () => undefined }), TypeError],
    ['a circular object deep inside', () => { const s = session({ a: { b: { c: {} } } }); s.a.b.c.loop = s.a; return s; }, TypeError],
  ];
  for (const [labelText, make, type, identity] of cases) {
    test(`${labelText}: the error once to set, the stored version kept, others unharmed`, async (t) => {
      const ctx = await seeded(t);
      const err = await expectError(ctx.store, type, 'set', 'keep-2', make());
      if (identity) assert.equal(err, identity, 'the very error thrown');
      assert.equal(await digest(ctx.store, { order: false }), ctx.beforeUnordered, 'contents unharmed');
      await ctx.roundTrip();
    });
  }

  test('touch with a cookie that cannot be serialized or read: the error once, the session unchanged', async (t) => {
    const ctx = await seeded(t);
    const loop = { maxAge: 1000 };
    loop.self = loop;
    await expectError(ctx.store, TypeError, 'touch', 'keep-1', { cookie: loop });
    assert.equal(await expectError(ctx.store, Error, 'touch', 'keep-1', { cookie: { toJSON() { throw boom; }, maxAge: 5 } }), boom);
    assert.equal(await expectError(ctx.store, Error, 'touch', 'keep-1', Object.defineProperty({}, 'cookie', { get() { throw boom; } })), boom);
    assert.equal(await digest(ctx.store, { order: false }), ctx.beforeUnordered, 'contents unharmed');
    await ctx.roundTrip();
  });
});

describe('serializers', () => {
  for (const [labelText, thrown] of [['a string', 'oops'], ['undefined', undefined], ['null', null], ['a number', 7], ['a plain object', { reason: 'x' }]]) {
    test(`stringify throwing ${labelText}: an Error once to set and touch, nothing stored`, async (t) => {
      let fail = false;
      const serializer = { stringify: (v) => { if (fail) throw thrown; return JSON.stringify(v); }, parse: JSON.parse };
      const ctx = await seeded(t, { serializer });
      fail = true;
      await expectError(ctx.store, Error, 'set', 'keep-1', session({ user: 'changed' }));
      await expectError(ctx.store, Error, 'touch', 'keep-2', session({}, 2 * HOUR));
      fail = false;
      assert.equal(await digest(ctx.store, { order: false }), ctx.beforeUnordered, 'contents unharmed');
      await ctx.roundTrip();
    });
  }

  test('parse throwing a non-Error: an Error once to get and all, the entry stays', async (t) => {
    let fail = false;
    const serializer = { stringify: JSON.stringify, parse: (s) => { if (fail) throw 'corrupt'; return JSON.parse(s); } };
    const ctx = await seeded(t, { serializer });
    fail = true;
    await expectError(ctx.store, Error, 'get', 'keep-1');
    await expectError(ctx.store, Error, 'all');
    fail = false;
    assert.equal(await digest(ctx.store, { order: false }), ctx.beforeUnordered, 'contents unharmed');
    await ctx.roundTrip();
  });

  test('parse returning undefined, null or a number: given to get as is, once, without an error', async (t) => {
    for (const parsed of [undefined, null, 0]) {
      const ctx = await seeded(t, { serializer: { stringify: JSON.stringify, parse: () => parsed } });
      const { calls, err, value } = await callOnce(ctx.store, 'get', 'keep-1');
      assert.equal(calls, 1);
      assert.ok(err === null || err === undefined, String(err));
      assert.equal(value, parsed);
      await ctx.store.close();
    }
  });

  test('touch on the slow path with stringify returning a non-string: a TypeError once, the session unchanged', async (t) => {
    let bad = false;
    const ctx = await seeded(t, { serializer: { stringify: (v) => (bad ? 42 : JSON.stringify(v)), parse: JSON.parse } });
    bad = true;
    await expectError(ctx.store, TypeError, 'touch', 'keep-1', session({}, 2 * HOUR));
    bad = false;
    assert.equal(await digest(ctx.store, { order: false }), ctx.beforeUnordered, 'contents unharmed');
    await ctx.roundTrip();
  });

  test('a serializer that throws while a 1.x file is converted at start: refused naming that error, the file untouched', async (t) => {
    const file = join(tempDir(t), 'sessions.json');
    const text = JSON.stringify({ a: session({ user: 'a' }) });
    writeFileSync(file, text);
    const boom = new Error('stringify failed');
    const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, serializer: { stringify() { throw boom; }, parse: JSON.parse } }));
    const err = await store.ready.then(() => assert.fail('ready resolved'), (e) => e);
    assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
    assert.ok(err.message.includes(file) && err.message.includes(boom.message), err.message);
    assert.equal((await callOnce(store, 'get', 'a')).err, err);
    assert.equal(readFileSync(file, 'utf8'), text);
  });
});

describe('throwing callbacks and listeners', () => {
  test('callbacks that throw on a store with a file (child process): each called once, the store keeps serving and saving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memfilestore-bad-'));
    try {
      const { code, stdout, stderr } = await runNode([FAULTS_CHILD, 'throwing-callbacks', join(dir, 'sessions.db')]);
      assert.equal(code, 0, stderr);
      const { calls, uncaught, before, after, ids } = JSON.parse(stdout.trim().split('\n').at(-1));
      const labels = ['set', 'get', 'get miss', 'touch', 'destroy', 'set invalid id', 'ids', 'all', 'length'];
      for (const label of labels) {
        assert.equal(calls[label], 1, `${label}: called once`);
        assert.equal(uncaught[`callback ${label}`], 1, `${label}: its exception surfaced once`);
      }
      assert.deepEqual(Object.keys(uncaught).sort(), labels.map((l) => `callback ${l}`).sort(), 'no other exception');
      assert.deepEqual(ids, ['b', 'a', 'd'], 'the calls took effect (c destroyed, d set, b touched last)');
      assert.equal(after, before, 'saved and loaded whole');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a throwing "error" listener (for a throwing dispose) becomes a process warning; nothing crashes', async (t) => {
    const warnings = captureWarnings(t);
    const ctx = await seeded(t, { dispose: () => { throw new Error('dispose failed'); } });
    ctx.store.on('error', () => { throw new Error('listener failed'); });
    await call(ctx.store, 'destroy', 'keep-3');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(warnings.some((w) => w.message === 'listener failed'), warnings.map((w) => w.message).join('; '));
    assert.deepEqual(await call(ctx.store, 'ids'), ['keep-2', 'keep-1']);
    await ctx.roundTrip();
  });

  test('a throwing "save" listener: the snapshot is on disk and the error surfaces exactly once', async (t) => {
    const warnings = captureWarnings(t);
    const ctx = await seeded(t);
    const errors = [];
    ctx.store.on('error', (err) => errors.push(err));
    ctx.store.on('save', () => { throw new Error('save listener failed'); });
    const flushed = await ctx.store.flush().then(() => undefined, (e) => e);
    await new Promise((resolve) => setImmediate(resolve));
    const surfaced = [flushed, ...errors, ...warnings].filter((e) => e?.message === 'save listener failed');
    assert.equal(surfaced.length, 1, 'once, through flush(), "error" or a warning');
    assert.equal(ctx.store.stats.persistence.changesSinceSave, 0, 'the save itself succeeded');
    assert.equal(decodeSnapshot(readFileSync(ctx.file)).records.length, 3);
  });
});

describe('what the snapshot file must carry', () => {
  // Expiries are written as `String(ms)` and read back as integers of at most 16 digits (snapshot-format.ts):
  // a fraction or a huge number makes a file that the next start refuses as damaged.
  const CASES = [
    ['ttl: 1500.5 (a fraction of a millisecond)', { ttl: 1500.5 }, session({})],
    ['a ttl function returning maxAge / 3', { ttl: (o, s) => s.cookie.maxAge / 3 }, session({}, 10_000)],
    ['ttl: 1e17 ms', { ttl: 1e17 }, session({})],
    ['ttl: Number.MAX_VALUE ("forever")', { ttl: Number.MAX_VALUE }, session({})],
    ['a plain cookie with maxAge 1e300', {}, session({}, 1e300)],
  ];
  test('expiries that are fractions or huge numbers: the snapshot written still loads, with the session', async (t) => {
    const refused = [];
    for (const [labelText, options, sess] of CASES) {
      const ctx = await seeded(t, options);
      await call(ctx.store, 'set', 'odd', sess);
      await ctx.store.close();
      const line = readFileSync(ctx.file, 'latin1').split('\n').find((l) => l.startsWith('r ') && l.includes(' 3 '));
      const again = track(t, new MemFileStore({ saveFile: ctx.file, savePeriod: 0, clock: ctx.clock.fn, ...options }));
      const err = await again.ready.then(() => undefined, (e) => e);
      if (err !== undefined) refused.push(`${labelText}: record line "${line}" -> ${err.code} ${err.reason ?? err.message}`);
      else assert.ok(await call(again, 'get', 'odd'), labelText);
    }
    assert.deepEqual(refused, [], 'the next start refuses the file the store wrote');
  });

  test('ids with lone surrogates: a TypeError once to get, set, touch and destroy (the README promises it); nothing stored, the file loads', async (t) => {
    const ctx = await seeded(t);
    for (const id of ['\uD800', '\uDC00', 'x\uD83D', '\uDE00y']) {
      for (const [method, args] of [['get', []], ['set', [session({ user: 'intruder' })]], ['touch', [session({}, 10 * DAY)]], ['destroy', []]]) {
        const err = await expectError(ctx.store, TypeError, method, id, ...args);
        assert.match(err.message, /lone surrogate/, `${method} ${JSON.stringify(id)}`);
      }
      await expectError(ctx.store, TypeError, 'destroy', ['keep-1', id]);
    }
    assert.equal(await digest(ctx.store), ctx.before, 'nothing stored or deleted');
    await ctx.roundTrip();
    assert.equal(await digest(ctx.store), ctx.before);
  });

  test('a custom serializer\'s string with a lone surrogate is refused at set: it could not survive the UTF-8 file', async (t) => {
    const raw = { stringify: (v) => `${v.user}`, parse: (s) => ({ user: s }) };
    const ctx = await seeded(t, { serializer: raw });
    await call(ctx.store, 'set', 'fine', { user: 'whole \uD83D\uDE00 emoji' });
    const err = await callError(ctx.store, 'set', 'odd', { user: 'half \uD83D emoji' });
    assert.ok(err instanceof TypeError && /lone surrogate/.test(err.message), err.message);
    await ctx.store.close();
    const again = track(t, new MemFileStore({ saveFile: ctx.file, savePeriod: 0, clock: ctx.clock.fn, serializer: raw }));
    await again.ready;
    assert.deepEqual(await call(again, 'get', 'fine'), { user: 'whole \uD83D\uDE00 emoji' });
    assert.equal(await call(again, 'get', 'odd'), undefined);
  });
});
