// What a user of journal: 'always' sees over HTTP when the store refuses a change (a failed journal sync): express-
// session sends the status line before the store's callback (it writes the response's head and all but its last byte,
// then ends it once the save calls back), so the refusal cannot become an error status: the response is a 200 and the
// error reaches the app's error handler afterwards, with the headers sent. An app that must tell its user saves
// explicitly before responding, and then answers the refusal itself (the README's pattern, tested here); express-
// session's own save at the end of that response is refused too, and goes to express's final handler (which logs
// it outside env 'test').
// Real express and express-session over real HTTP; the sync failure comes through the store's fs seam.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import express from 'express';
import session from 'express-session';
import { MemFileStore } from 'express-memfilestore';
import { tempDir, track } from './fixtures/persist/helpers.mjs';
import { journalFs } from './fixtures/journal/helpers.mjs';

test("journal 'always' over HTTP: a refused change is a 200 unless the app saves first; saving first lets it answer 503", async (t) => {
  const fs = journalFs();
  const store = track(t, new MemFileStore({ saveFile: join(tempDir(t), 'sessions.db'), journal: 'always', fs, savePeriod: 0 }));
  const storeErrors = [];
  store.on('error', (err) => { storeErrors.push(err.code); });
  await store.ready;

  const handled = [];
  const app = express();
  app.set('env', 'test');
  app.use(session({ store, secret: 'always refusal', resave: false, saveUninitialized: false }));
  app.get('/implicit', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1;
    res.send(`n=${req.session.n}`);
  });
  app.get('/explicit', (req, res, next) => {
    req.session.n = (req.session.n ?? 0) + 1;
    req.session.save((err) => (err ? next(err) : res.send(`n=${req.session.n}`)));
  });
  app.use((err, req, res, _next) => {
    handled.push({ path: req.path, code: err.code, headersSent: res.headersSent });
    if (res.headersSent) return;
    res.status(503).send('not saved');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => { server.once('listening', resolve); });
  t.after(() => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }));
  const base = `http://127.0.0.1:${server.address().port}`;

  const first = await fetch(`${base}/implicit`);
  assert.equal(first.status, 200);
  assert.equal(await first.text(), 'n=1');
  const cookie = first.headers.get('set-cookie').split(';')[0];

  fs.faults.fdatasync = 'EIO';
  const implicit = await fetch(`${base}/implicit`, { headers: { cookie } });
  assert.equal(implicit.status, 200, 'the status was sent before the store called back');
  assert.equal(await implicit.text(), 'n=2');
  const explicit = await fetch(`${base}/explicit`, { headers: { cookie } });
  assert.equal(explicit.status, 503);
  assert.equal(await explicit.text(), 'not saved');

  assert.deepEqual(handled, [
    { path: '/implicit', code: 'ERR_JOURNAL_FAILED', headersSent: true },
    { path: '/explicit', code: 'ERR_JOURNAL_FAILED', headersSent: false },
  ]);
  assert.deepEqual(storeErrors, ['ERR_JOURNAL_FAILED']);
});

test("journal 'always', saving first: express-session's own call at the end of that response is a touch, made only for a request that brought its cookie", async (t) => {
  const fs = journalFs();
  const store = track(t, new MemFileStore({ saveFile: join(tempDir(t), 'sessions.db'), journal: 'always', fs, savePeriod: 0 }));
  store.on('error', () => {});
  await store.ready;
  const calls = [];
  for (const method of ['set', 'touch']) {
    const own = store[method].bind(store);
    store[method] = (sid, sess, callback) => own(sid, sess, (err) => {
      calls.push(`${method} ${err?.code ?? 'ok'}`);
      callback?.(err);
    });
  }

  const app = express();
  app.set('env', 'test');
  app.use(session({ store, secret: 'always refusal', resave: false, saveUninitialized: false }));
  app.get('/login', (req, res, next) => {
    req.session.user = 'ann';
    req.session.save((err) => (err ? next(err) : res.send('logged in')));
  });
  app.use((err, req, res, _next) => { res.status(503).send('not saved'); });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => { server.once('listening', resolve); });
  t.after(() => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }));
  const base = `http://127.0.0.1:${server.address().port}`;
  const settled = () => new Promise((resolve) => { setTimeout(resolve, 50); });

  const first = await fetch(`${base}/login`);
  const cookie = first.headers.get('set-cookie').split(';')[0];
  await settled();
  assert.deepEqual(calls.splice(0), ['set ok']);

  fs.faults.fdatasync = 'EIO';
  assert.equal((await fetch(`${base}/login`, { headers: { cookie } })).status, 503);
  await settled();
  assert.deepEqual(calls.splice(0), ['set ERR_JOURNAL_FAILED', 'touch ERR_JOURNAL_FAILED'], 'with the cookie: a touch, refused too');
  assert.equal((await fetch(`${base}/login`)).status, 503);
  await settled();
  assert.deepEqual(calls.splice(0), ['set ERR_JOURNAL_FAILED'], 'a new visitor: no second call');
});
