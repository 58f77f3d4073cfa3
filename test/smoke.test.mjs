import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';

test('smoke: set then get over the package name', async () => {
  const store = new MemFileStore();
  await new Promise((resolve, reject) => store.set('a', { cookie: { maxAge: 1000 }, n: 1 }, (e) => (e ? reject(e) : resolve())));
  const got = await new Promise((resolve, reject) => store.get('a', (e, s) => (e ? reject(e) : resolve(s))));
  assert.equal(got.n, 1);
});
