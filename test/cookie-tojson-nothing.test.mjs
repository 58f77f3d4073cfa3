// A cookie whose toJSON returns null or undefined (no object to write by hand): touch and set store what
// JSON.stringify writes (`"cookie":null`, or no cookie at all), never an error. The hand-written cookie JSON
// (src/json/session-json.ts cookieJson) must turn such a value away before looking into it.
// Found by mutation testing (npm run mutate -- src/json/session-json.ts:111-115).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call } from './fixtures/store-calls.mjs';

const stored = { cookie: { originalMaxAge: 60_000, path: '/' }, user: 1 };

for (const [name, value] of [['null', null], ['undefined', undefined]]) {
  test(`touch with a cookie whose toJSON returns ${name}: stored as JSON.stringify writes it`, async () => {
    const store = new MemFileStore();
    await call(store, 'set', 'sid', stored);
    const cookie = { toJSON: () => value };
    await call(store, 'touch', 'sid', { cookie });
    assert.equal(store.store.get('sid'), JSON.stringify({ ...stored, cookie }));
  });

  test(`set with a cookie whose toJSON returns ${name}: stored as JSON.stringify writes it`, async () => {
    const store = new MemFileStore();
    const session = { cookie: { toJSON: () => value }, user: 1 };
    await call(store, 'set', 'sid', session);
    assert.equal(store.store.get('sid'), JSON.stringify(session));
  });
}
