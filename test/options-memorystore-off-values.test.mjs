// memorystore read `checkPeriod` as "start a timer when it is a finite number above 0", so apps switch pruning off
// with whatever their condition gives: `checkPeriod: isProduction && 86_400_000` passes `false` in development. A
// drop-in must take that `false` as memorystore did (no timer), not refuse to start; a string stays a TypeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';

test('checkPeriod: false starts no prune timer, as in memorystore, and the store works', async (t) => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const store = new MemFileStore({ checkPeriod: false });
  t.after(() => store.close());
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
  assert.equal(store.options.checkPeriod, undefined);
  await new Promise((resolve, reject) => {
    store.set('a', { cookie: { maxAge: 60_000 }, n: 1 }, (err) => (err ? reject(err) : resolve()));
  });
  const got = await new Promise((resolve, reject) => { store.get('a', (err, s) => (err ? reject(err) : resolve(s))); });
  assert.equal(got.n, 1);
});

test('checkPeriod: true is still a TypeError: it names no period', () => {
  assert.throws(() => new MemFileStore({ checkPeriod: true }), (err) => err instanceof TypeError && /option "checkPeriod"/.test(err.message) && /got true$/.test(err.message));
});
