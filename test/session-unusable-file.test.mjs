// A store whose saveFile cannot be used (here its directory is missing), run by an app that handles the rejection of
// `ready` instead of letting it stop the process: the README promises that every call then fails with the error.
// Over real HTTP, express-session must pass that error on (a 500), not take it for "no such session".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import session from 'express-session';
import { MemFileStore } from 'express-memfilestore';
import { listen } from './fixtures/http.mjs';

test('a missing saveFile directory: a request carrying a session cookie fails with the store\'s error, not as a new session', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-unusable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, 'not-mounted');
  const store = new MemFileStore({ saveFile: join(missing, 'sessions.db') });
  t.after(() => store.close());
  const startError = await store.ready.then(() => assert.fail('ready resolved'), (err) => err);
  assert.equal(startError.code, 'ENOENT', 'ready still says what is wrong with the file');

  const seen = [];
  const app = express();
  app.use(session({ store, secret: 'unusable file test', resave: false, saveUninitialized: false }));
  app.get('/me', (req, res) => res.json({ user: req.session.user ?? null, id: req.sessionID }));
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    seen.push(err);
    res.status(500).json({ error: err.message });
  });
  const base = await listen(t, app);

  // A cookie as a browser holds it from before the restart, signed as express-session signs it (cookie-signature):
  // express-session asks the store for its session.
  const signed = `s:${'a'.repeat(32)}`;
  const signature = createHmac('sha256', 'unusable file test').update('a'.repeat(32)).digest('base64').replace(/=+$/, '');
  const cookie = `connect.sid=${encodeURIComponent(`${signed}.${signature}`)}`;
  const res = await fetch(`${base}/me`, { headers: { cookie } });
  const body = await res.json();
  assert.equal(res.status, 500, `the request fails, it is not served as a stranger: ${JSON.stringify(body)}`);
  assert.ok(body.error.includes(missing), `the error names the missing directory: ${body.error}`);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].cause, startError, 'the start error is its cause');
});
