// A real app whose `dispose` hook fails, over real HTTP: express 5 + express-session, `journal: 'always'`, `max: 3`
// (logins evict), a hook that throws (a string, as some code does) or that is async and rejects (an audit write to a
// database that is down). Before the fix, the async hook's rejection was unhandled and ended the server at the first
// login that replaced a session. Every request must be answered as if the hook had worked, each failure reported
// once as an 'error' event, and a restart must load the sessions the users still have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import express from 'express';
import session from 'express-session';
import { MemFileStore } from 'express-memfilestore';
import { listen } from './fixtures/http.mjs';
import { call, tempDir, track } from './fixtures/persist/helpers.mjs';

function app(store) {
  const server = express();
  server.use(session({ store, secret: 'dispose hook test', resave: false, saveUninitialized: false }));
  server.get('/login/:user', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = req.params.user;
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.send('ok')));
    });
  });
  server.get('/me', (req, res) => { res.send(req.session.user ?? 'nobody'); });
  server.get('/logout', (req, res, next) => { req.session.destroy((err) => (err ? next(err) : res.send('bye'))); });
  return server;
}

/** A browser per user: keeps its session cookie. */
function browser(base) {
  let cookie;
  return async (path) => {
    const res = await fetch(base + path, { headers: cookie === undefined ? {} : { cookie } });
    const set = res.headers.get('set-cookie');
    if (set !== null) cookie = set.split(';')[0];
    return `${res.status} ${await res.text()}`;
  };
}

for (const [name, dispose] of [
  ['throws a string', (sid, _value, reason) => { throw `audit of ${reason} failed`; }],
  ['is async and rejects', async (sid, _value, reason) => { await null; throw new Error(`audit of ${reason} failed`); }],
]) {
  test(`a dispose hook that ${name}: every request answered, each failure an 'error' event, a restart keeps the users logged in`, { timeout: 30_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const store = track(t, new MemFileStore({ saveFile: file, journal: 'always', max: 3, dispose }));
    await store.ready;
    const errors = [];
    store.on('error', (err) => { errors.push(err.message); });
    const base = await listen(t, app(store));
    const users = Object.fromEntries(['ann', 'bob', 'cat', 'dan'].map((user) => [user, browser(base)]));
    for (const user of ['ann', 'bob', 'cat', 'dan']) assert.equal(await users[user](`/login/${user}`), '200 ok');
    assert.equal(await users.ann('/me'), '200 nobody', 'ann was evicted by dan\'s login (max 3)');
    assert.equal(await users.dan('/login/dan2'), '200 ok', 'a login over a login: regenerate destroys the old session');
    assert.equal(await users.cat('/logout'), '200 bye');
    assert.equal(await users.cat('/me'), '200 nobody');
    assert.equal(await users.bob('/me'), '200 bob');
    assert.equal(await users.dan('/me'), '200 dan2');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(errors.some((message) => /audit of evict failed/.test(message)), errors.join('; '));
    assert.ok(errors.some((message) => /audit of delete failed/.test(message)), errors.join('; '));
    assert.ok(errors.every((message) => /^audit of (evict|delete|set) failed$/.test(message)), errors.join('; '));

    await store.close();
    const after = track(t, new MemFileStore({ saveFile: file }));
    await after.ready;
    const sessions = await call(after, 'all');
    assert.deepEqual(Object.values(sessions).map((s) => s.user).sort(), ['bob', 'dan2']);
  });
}
