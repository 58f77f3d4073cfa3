// The hand-written cookie JSON (set) and the spliced cookie (touch) must give JSON.stringify's exact text. For a Date,
// JSON.stringify calls the Date's own toISOString (through Date.prototype.toJSON): a Date subclass, or a Date given its
// own toISOString, writes what that method returns. The fast path checked only Date.prototype.toISOString, so it
// wrote the standard ISO text instead, and get() returned something JSON.parse(JSON.stringify(session)) does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { MemFileStore } from 'express-memfilestore';
import { call } from './fixtures/store-calls.mjs';

const require = createRequire(import.meta.url);
const Cookie = require('express-session/session/cookie');

// express-session's Cookie counts its maxAge from the real clock: the store uses it too.
const NOW = Date.now();
class LocalDate extends Date {
  toISOString() { return `local:${this.getTime()}`; }
}
const ownMethod = () => {
  const d = new Date(NOW + 3_600_000);
  d.toISOString = () => 'own toISOString';
  return d;
};

for (const [name, make] of [['a Date subclass overriding toISOString', () => new LocalDate(NOW + 3_600_000)], ['a Date with its own toISOString', ownMethod]]) {
  test(`set: a Cookie whose expires is ${name} is stored as JSON.stringify writes it`, async () => {
    const store = new MemFileStore();
    const cookie = new Cookie({ maxAge: 3_600_000 });
    cookie.expires = make();
    const session = { cookie, user: 1 };
    await call(store, 'set', 'sid', session);
    assert.equal(store.store.get('sid'), JSON.stringify(session));
    assert.deepEqual(await call(store, 'get', 'sid'), JSON.parse(JSON.stringify(session)));
  });

  test(`touch: a cookie whose expires is ${name} is spliced as JSON.stringify writes it`, async () => {
    const store = new MemFileStore();
    await call(store, 'set', 'sid', { cookie: { originalMaxAge: 60_000, expires: new Date(NOW + 60_000).toISOString(), path: '/' }, user: 1 });
    const stored = JSON.parse(store.store.get('sid'));
    const cookie = { originalMaxAge: 3_600_000, maxAge: 3_600_000, expires: make(), path: '/' };
    await call(store, 'touch', 'sid', { cookie });
    assert.equal(store.store.get('sid'), JSON.stringify({ ...stored, cookie }));
  });
}
