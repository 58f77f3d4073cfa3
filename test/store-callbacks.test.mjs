// Callbacks: always called later (never before the method returns), exactly once, for every method and
// every outcome (hit, miss, error), and still exactly once when the callback itself throws
// (memorystore 1.6.7 called back twice on a serializer error).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MemFileStore } from 'express-memfilestore';
import { afterCallbacks } from './fixtures/store-calls.mjs';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const sess = (maxAge, extra = {}) => ({ cookie: { originalMaxAge: maxAge, maxAge, httpOnly: true, path: '/' }, ...extra });
const circular = () => { const s = sess(60_000); s.self = s; return s; };

/** [label, method, args] for every method and outcome; the store holds "a" (see storeFor). */
const CASES = [
  ['get (hit)', 'get', ['a']],
  ['get (miss)', 'get', ['missing']],
  ['get (parse error)', 'get', ['bad']],
  ['set', 'set', ['b', sess(60_000)]],
  ['set (serializer error)', 'set', ['c', circular()]],
  ['set (invalid id)', 'set', [null, sess(60_000)]],
  ['touch (hit)', 'touch', ['a', sess(30_000)]],
  ['touch (miss)', 'touch', ['missing', sess(30_000)]],
  ['destroy', 'destroy', ['a']],
  ['destroy (array)', 'destroy', [['a', 'missing']]],
  ['destroy (invalid id)', 'destroy', [{}]],
  ['ids', 'ids', []],
  ['all', 'all', []],
  ['all (parse error)', 'all', []],
  ['length', 'length', []],
  ['clear', 'clear', []],
];

/** A store holding 'a' and, for the parse-error cases, an entry its serializer cannot parse. */
async function storeFor(label) {
  const parseError = label.includes('parse error');
  const store = new MemFileStore({
    serializer: { stringify: JSON.stringify, parse: (s) => { if (s.includes('"unparseable"')) throw new SyntaxError('bad'); return JSON.parse(s); } },
  });
  await new Promise((resolve) => store.set('a', sess(60_000, { v: 1 }), resolve));
  if (parseError) await new Promise((resolve) => store.set('bad', sess(60_000, { unparseable: true }), resolve));
  return store;
}

describe('callbacks are asynchronous and called exactly once', () => {
  for (const [label, method, args] of CASES) {
    test(label, async () => {
      const store = await storeFor(label);
      let returned = false;
      let calls = 0;
      let sawReturned;
      store[method](...args, () => {
        calls++;
        sawReturned = returned;
      });
      returned = true;
      await afterCallbacks(() => calls > 0);
      assert.equal(calls, 1, 'called exactly once');
      assert.equal(sawReturned, true, 'called only after the method returned');
    });
  }

  test('after close()', async () => {
    const store = new MemFileStore();
    await store.close();
    for (const [, method, args] of CASES) {
      let returned = false;
      let calls = 0;
      let sawReturned;
      store[method](...args, (err) => {
        calls++;
        sawReturned = returned;
        assert.equal(err && err.code, 'ERR_STORE_CLOSED');
      });
      returned = true;
      await afterCallbacks(() => calls > 0);
      assert.equal(calls, 1, `${method}: exactly once`);
      assert.equal(sawReturned, true, `${method}: asynchronous`);
    }
  });

  test('callbacks run in call order', async () => {
    const store = new MemFileStore();
    const order = [];
    store.set('x', sess(60_000), () => order.push('set'));
    store.get('x', () => order.push('get'));
    store.get('nope', () => order.push('miss'));
    store.touch('x', sess(1000), () => order.push('touch'));
    store.length(() => order.push('length'));
    store.destroy('x', () => order.push('destroy'));
    store.all(() => order.push('all'));
    await afterCallbacks(() => order.length >= 7);
    assert.deepEqual(order, ['set', 'get', 'miss', 'touch', 'length', 'destroy', 'all']);
  });
});

test('a callback that throws is still called exactly once, and the store keeps working', () => {
  // Run in a child process: the thrown errors are uncaught exceptions there, counted by a handler.
  const script = `
    const { MemFileStore } = require('express-memfilestore');
    const cases = ${JSON.stringify(CASES.map(([label, method]) => [label, method]))};
    const calls = {};
    const errors = {};
    process.on('uncaughtException', (err) => { errors[err.message] = (errors[err.message] || 0) + 1; });
    const sess = (maxAge, extra) => Object.assign({ cookie: { maxAge } }, extra);
    const circular = sess(60000); circular.self = circular;
    const args = {
      'get (hit)': ['a'], 'get (miss)': ['missing'], 'get (parse error)': ['bad'], 'set': ['b', sess(60000)],
      'set (serializer error)': ['c', circular], 'set (invalid id)': [null, sess(60000)], 'touch (hit)': ['a', sess(30000)],
      'touch (miss)': ['missing', sess(30000)], 'destroy': ['a'], 'destroy (array)': [['a', 'missing']],
      'destroy (invalid id)': [{}], 'ids': [], 'all': [], 'all (parse error)': [], 'length': [], 'clear': [],
    };
    const serializer = { stringify: JSON.stringify, parse: (s) => { if (s.includes('unparseable')) throw new SyntaxError('bad'); return JSON.parse(s); } };
    (async () => {
      for (const [label, method] of cases) {
        const store = new MemFileStore({ serializer });
        await new Promise((r) => store.set('a', sess(60000, { v: 1 }), r));
        if (label.includes('parse error')) await new Promise((r) => store.set('bad', sess(60000, { unparseable: 1 }), r));
        calls[label] = 0;
        store[method](...args[label], () => { calls[label]++; throw new Error(label); });
        await new Promise((r) => setTimeout(r, 10));
        // The store still works after a throwing callback.
        await new Promise((r, j) => store.set('after', sess(60000, { ok: 1 }), (e) => (e ? j(e) : r())));
        const got = await new Promise((r) => store.get('after', (e, v) => r(v)));
        if (!got || got.ok !== 1) calls[label] = 'store broken';
      }
      console.log(JSON.stringify({ calls, errors }));
    })();
  `;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: repoRoot, timeout: 30_000, encoding: 'utf8' });
  const { calls, errors } = JSON.parse(out);
  for (const [label] of CASES) {
    assert.equal(calls[label], 1, `${label}: callback calls`);
    assert.equal(errors[label], 1, `${label}: its exception surfaced once, uncaught`);
  }
  assert.deepEqual(Object.keys(errors).sort(), CASES.map(([label]) => label).sort(), 'no other uncaught exception');
});
