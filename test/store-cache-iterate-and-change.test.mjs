// memorystore's users walk `store.store` (the cache) to find the sessions of one user and change them: give them a new
// role after a permission change, extend them, or read each one (memorystore's own prune is `forEach` + `get`). With
// memorystore's lru-cache 4 the walk took the next entry before calling back, so such code ended. lru-cache 11 walks its
// list live: a session read, set or touched in the callback moves to the front, where the walk met it again, forever,
// and the server stopped answering. Each walk here is guarded: a callback called more often than there are sessions
// throws instead of hanging the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import session from 'express-session';
import { MemFileStore } from 'express-memfilestore';
import { call, sess } from './fixtures/store-calls.mjs';
import { listen } from './fixtures/http.mjs';

const SECRET = 'iterate and change secret';

/** A callback wrapper that throws once it has been called more than `limit` times (a walk that never ends). */
function guarded(limit, fn) {
  let calls = 0;
  const wrapped = function guard(...args) {
    if (++calls > limit) throw new Error(`the walk visited more than ${limit} entries: it does not end`);
    return fn.apply(this, args);
  };
  wrapped.calls = () => calls;
  return wrapped;
}

test('an admin route that walks store.store and sets the sessions of one user answers, and the users see the change', async (t) => {
  const store = new MemFileStore();
  t.after(() => store.close());
  const app = express();
  app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: 60_000 } }));
  app.post('/login/:user', (req, res) => {
    req.session.user = req.params.user;
    req.session.role = 'reader';
    res.json({ id: req.sessionID });
  });
  app.get('/me', (req, res) => res.json({ user: req.session.user ?? null, role: req.session.role ?? null }));
  app.post('/admin/promote/:user', (req, res) => {
    let changed = 0;
    store.store.forEach(guarded(100, (value, sid) => {
      const stored = JSON.parse(value);
      if (stored.user !== req.params.user) return;
      stored.role = 'editor';
      store.set(sid, stored);
      changed++;
    }));
    res.json({ changed });
  });
  app.use((err, req, res, _next) => res.status(500).json({ error: err.message }));
  const base = await listen(t, app);

  const cookies = {};
  for (const [name, user] of [['ann1', 'ann'], ['bob', 'bob'], ['ann2', 'ann']]) {
    const res = await fetch(`${base}/login/${user}`, { method: 'POST' });
    assert.equal(res.status, 200);
    cookies[name] = res.headers.getSetCookie()[0].split(';')[0];
  }

  const promote = await fetch(`${base}/admin/promote/ann`, { method: 'POST' });
  assert.deepEqual({ status: promote.status, body: await promote.json() }, { status: 200, body: { changed: 2 } });
  for (const [name, role] of [['ann1', 'editor'], ['ann2', 'editor'], ['bob', 'reader']]) {
    const me = await (await fetch(`${base}/me`, { headers: { cookie: cookies[name] } })).json();
    assert.equal(me.role, role, name);
  }
});

/** A store holding a, b, c, d (d most recently used). */
async function fourSessions() {
  const store = new MemFileStore();
  for (const id of ['a', 'b', 'c', 'd']) await call(store, 'set', id, sess(60_000, { id }));
  return store;
}

const walks = {
  'forEach + get (memorystore\'s prune)': (store, visit) => store.store.forEach((v, k) => visit(k, () => store.store.get(k))),
  'rforEach + get': (store, visit) => store.store.rforEach((v, k) => visit(k, () => store.store.get(k))),
  'forEach + touch': (store, visit) => store.store.forEach((v, k) => visit(k, () => store.touch(k, sess(120_000)))),
  'for...of keys() + set': (store, visit) => {
    for (const k of store.store.keys()) visit(k, () => store.set(k, sess(120_000, { k })));
  },
  'for...of values() + get of the same session': (store, visit) => {
    for (const v of store.store.values()) {
      const k = JSON.parse(v).id;
      visit(k, () => store.get(k, () => {}));
      store.store.get(k);
    }
  },
  'for...of entries() + set': (store, visit) => {
    for (const [k] of store.store.entries()) visit(k, () => store.set(k, sess(120_000, { k })));
  },
  'for...of the cache + get': (store, visit) => {
    for (const [k] of store.store) visit(k, () => store.store.get(k));
  },
};

for (const [name, walk] of Object.entries(walks)) {
  test(`${name} on store.store visits each session once, in the order it had when the walk began`, async (t) => {
    const store = await fourSessions();
    t.after(() => store.close());
    const expected = name.startsWith('rforEach') ? ['a', 'b', 'c', 'd'] : ['d', 'c', 'b', 'a'];
    const seen = [];
    walk(store, guarded(8, (k, change) => {
      seen.push(k);
      change();
    }));
    assert.deepEqual(seen, expected);
    assert.equal(store.store.size, 4);
  });
}

test('a session deleted during a walk is not visited afterwards; one added is not visited', async (t) => {
  const store = await fourSessions();
  t.after(() => store.close());
  const seen = [];
  store.store.forEach(guarded(8, (v, k) => {
    seen.push([k, JSON.parse(v).id]);
    if (k === 'd') {
      store.destroy('b');
      store.set('e', sess(60_000, { id: 'e' }));
    }
  }));
  assert.deepEqual(seen, [['d', 'd'], ['c', 'c'], ['a', 'a']]);
});

test('the value a walk passes is the one stored when the callback is reached, and this is the cache', async (t) => {
  const store = await fourSessions();
  t.after(() => store.close());
  const seen = [];
  const thisArgs = [];
  store.store.forEach(guarded(8, function visit(v, k, cache) {
    thisArgs.push(this === store.store && cache === store.store);
    seen.push([k, JSON.parse(v).id]);
    if (k === 'd') store.set('a', sess(60_000, { id: 'a2' }));
  }));
  assert.deepEqual(seen, [['d', 'd'], ['c', 'c'], ['b', 'b'], ['a', 'a2']]);
  assert.deepEqual(thisArgs, [true, true, true, true]);
  const bound = {};
  store.store.forEach(function visit() { thisArgs.push(this === bound); }, bound);
  assert.equal(thisArgs.at(-1), true);
});
