// Integration over real HTTP: express 4 and express 5, express-session and our store, a real server on
// an ephemeral port, real cookies carried between requests by hand. No mocks: the only instrumentation
// is counting wrappers around the store instance's own methods.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import express5 from 'express';
import express4 from 'express4';
import session from 'express-session';
import { MemFileStore } from 'express-memfilestore';
import { createApp } from '../examples/app.mjs';
import { listen } from './fixtures/http.mjs';

const SECRET = 'integration test secret';

// ---------------------------------------------------------------------------------------------
// helpers

/** Promisified store calls, straight on the store (what express-session sees). */
const call = (store, method, ...args) => new Promise((resolve, reject) => {
  store[method](...args, (err, value) => (err ? reject(err) : resolve(value)));
});
const stored = (store, sid) => call(store, 'get', sid);
const storeLength = (store) => call(store, 'length');

/** Wraps a store method with a counter of the ids it is called with; behaviour is the store's own. */
function countCalls(store, method) {
  const ids = [];
  const original = store[method];
  store[method] = function counted(sid, ...rest) {
    ids.push(sid);
    return original.call(this, sid, ...rest);
  };
  return ids;
}

/** Parses one Set-Cookie header into { name, value, attributes } (attribute names lower-cased). */
function parseSetCookie(header) {
  const [pair, ...parts] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes = {};
  for (const part of parts) {
    const i = part.indexOf('=');
    const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    attributes[key] = i < 0 ? true : part.slice(i + 1).trim();
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

/** The session id inside express-session's signed cookie value `s:<id>.<signature>` (URL-encoded). */
function sidOf(cookieValue) {
  const raw = decodeURIComponent(cookieValue);
  assert.ok(raw.startsWith('s:'), `signed cookie value expected, got ${raw}`);
  return raw.slice(2, raw.lastIndexOf('.'));
}

/**
 * A browser-like client for one cookie: it sends the cookie it holds and keeps the one the server sets
 * (an emptied cookie clears it). `cookie` is public so a test can replay an old one.
 */
function client(base, cookieName) {
  return {
    cookie: undefined,
    async request(path, { method = 'GET', form, cookie = this.cookie } = {}) {
      const headers = {};
      if (cookie) headers.cookie = cookie;
      let body;
      if (form) {
        body = new URLSearchParams(form).toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      }
      const res = await fetch(base + path, { method, headers, body, redirect: 'manual' });
      const text = await res.text(); // the whole body: express-session's save/touch has finished by then
      const setCookies = res.headers.getSetCookie().map(parseSetCookie).filter((c) => c.name === cookieName);
      assert.ok(setCookies.length <= 1, 'at most one session cookie per response');
      const setCookie = setCookies[0];
      if (setCookie) this.cookie = setCookie.value === '' ? undefined : `${setCookie.name}=${setCookie.value}`;
      const json = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
      return { status: res.status, headers: res.headers, text, json, setCookie };
    },
  };
}

/** An express app (4 or 5) with express-session over a fresh MemFileStore and a few routes. */
async function startApp(t, express, { sessionOptions = {}, storeOptions = {} } = {}) {
  const store = new MemFileStore(storeOptions);
  t.after(() => store.close());
  const app = express();
  app.use(session({
    store,
    secret: SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 60_000 },
    ...sessionOptions,
  }));
  app.get('/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1;
    res.json({ n: req.session.n, id: req.sessionID });
  });
  // Reads the session without changing it.
  app.get('/peek', (req, res) => {
    res.json({ n: req.session.n ?? null, user: req.session.user ?? null, id: req.sessionID });
  });
  app.post('/login', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = 'ada';
      res.json({ id: req.sessionID });
    });
  });
  app.post('/logout', (req, res, next) => {
    const id = req.sessionID;
    req.session.destroy((err) => (err ? next(err) : res.json({ destroyed: id })));
  });
  const base = await listen(t, app);
  return { store, base, client: () => client(base, 'connect.sid') };
}

// ---------------------------------------------------------------------------------------------
// the same tests with express 4 and express 5

for (const [label, express] of [['express 4', express4], ['express 5', express5]]) {
  describe(`${label} + express-session + MemFileStore over HTTP`, () => {
    test('a new session gets a cookie and is stored', async (t) => {
      // Date is mocked: express-session's Cookie reads originalMaxAge back as `expires - Date.now()` right after
      // setting expires to `Date.now() + maxAge`; on the real clock the two reads may differ (a tolerance of 10 ms
      // stood for that, which a GC pause between them could exceed), and the exact value is what is stored.
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const { store, client } = await startApp(t, express);
      const browser = client();

      // saveUninitialized: false: reading an empty session stores nothing and sets no cookie.
      const anonymous = await browser.request('/peek');
      assert.equal(anonymous.status, 200);
      assert.equal(anonymous.setCookie, undefined);
      assert.equal(await storeLength(store), 0);

      const first = await browser.request('/count');
      assert.equal(first.status, 200);
      assert.ok(first.setCookie, 'a Set-Cookie for the new session');
      assert.equal(first.setCookie.attributes.httponly, true);
      const sid = sidOf(first.setCookie.value);
      assert.equal(sid, first.json.id);
      assert.equal(await storeLength(store), 1);

      const sess = await stored(store, sid);
      assert.equal(sess.n, 1);
      assert.equal(sess.cookie.originalMaxAge, 60_000);
      assert.ok(Date.parse(sess.cookie.expires) > Date.now(), 'the stored cookie expires in the future');
      assert.deepEqual(await call(store, 'ids'), [sid]);
    });

    test('a counter increments across requests that carry the cookie', async (t) => {
      const { store, client } = await startApp(t, express);
      const browser = client();
      const ns = [];
      const ids = new Set();
      for (let i = 0; i < 4; i++) {
        const { json } = await browser.request('/count');
        ns.push(json.n);
        ids.add(json.id);
      }
      assert.deepEqual(ns, [1, 2, 3, 4]);
      assert.equal(ids.size, 1, 'one session throughout');
      const [sid] = ids;
      assert.equal((await stored(store, sid)).n, 4);

      // Another browser has its own session.
      const other = await client().request('/count');
      assert.equal(other.json.n, 1);
      assert.notEqual(other.json.id, sid);
      assert.equal(await storeLength(store), 2);
      assert.equal((await stored(store, sid)).n, 4);
    });

    test('resave: false: an unchanged session is touched, not set, and its expiry moves forward', async (t) => {
      // Date is mocked: express-session's Cookie recomputes originalMaxAge as `expires - Date.now()` right after
      // setting expires to `Date.now() + maxAge`, so a real clock crossing a millisecond between the two reads
      // stores 59999 for a maxAge of 60000 (one CI run in many), which is express-session's doing, not the store's.
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const { store, client } = await startApp(t, express);
      const sets = countCalls(store, 'set');
      const touches = countCalls(store, 'touch');
      const browser = client();

      const { json: { id: sid } } = await browser.request('/count');
      assert.deepEqual(sets, [sid]);
      assert.deepEqual(touches, []);
      const before = await stored(store, sid);

      t.mock.timers.tick(25); // so that "now + maxAge" is a later instant
      const peek = await browser.request('/peek');
      assert.equal(peek.json.n, 1);
      assert.equal(peek.setCookie, undefined, 'not rolling: an unchanged session sends no cookie');
      assert.deepEqual(sets, [sid], 'set is not needed for an unchanged session');
      assert.deepEqual(touches, [sid], 'the touch path ran');

      const after = await stored(store, sid);
      assert.equal(after.n, 1, 'touch keeps the session data');
      assert.ok(Date.parse(after.cookie.expires) > Date.parse(before.cookie.expires),
        `stored expiry moved forward: ${before.cookie.expires} -> ${after.cookie.expires}`);
      assert.equal(after.cookie.originalMaxAge, before.cookie.originalMaxAge, 'touch keeps originalMaxAge');
    });

    test('resave: false: touches keep an idle-timeout session alive past its first maxAge', async (t) => {
      // maxAge 800 ms, a touch every 400 ms, three times: 1.2 s after it was set the session must still be
      // there, because each touch moved the store's own expiry (not only the stored cookie). Time is moved by
      // hand (mocked Date, which express-session's cookie and the store's clock both read), so a slow
      // request on a busy machine cannot age the session. Then 800 ms without a request: it is gone.
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const { store, client } = await startApp(t, express, {
        sessionOptions: { cookie: { maxAge: 800 } },
        storeOptions: { clock: () => Date.now() },
      });
      const sets = countCalls(store, 'set');
      const browser = client();
      const { json: { id: sid } } = await browser.request('/count');
      for (let i = 0; i < 3; i++) {
        t.mock.timers.tick(400);
        const { json } = await browser.request('/peek');
        assert.equal(json.id, sid, `still the same session after ${(i + 1) * 400} ms`);
        assert.equal(json.n, 1);
      }
      assert.deepEqual(sets, [sid], 'only touched after the first save');
      assert.equal((await stored(store, sid)).n, 1);
      t.mock.timers.tick(799);
      assert.equal((await stored(store, sid)).n, 1, '799 ms after the last touch');
      t.mock.timers.tick(1);
      assert.equal(await stored(store, sid), undefined, '800 ms after the last touch: expired');
    });

    test('rolling: true refreshes the cookie on every response, and the store agrees with it', async (t) => {
      const { store, client } = await startApp(t, express, { sessionOptions: { rolling: true } });
      const sets = countCalls(store, 'set');
      const touches = countCalls(store, 'touch');
      const browser = client();

      const first = await browser.request('/count');
      const sid = sidOf(first.setCookie.value);
      let previous = Date.parse((await stored(store, sid)).cookie.expires);

      for (let i = 0; i < 2; i++) {
        await sleep(25);
        const res = await browser.request('/peek');
        assert.ok(res.setCookie, 'a Set-Cookie on an unchanged session');
        assert.equal(sidOf(res.setCookie.value), sid, 'same session id');
        const sess = await stored(store, sid);
        const expires = Date.parse(sess.cookie.expires);
        assert.ok(expires > previous, 'the stored expiry moves forward');
        // The Expires attribute has one-second precision; it is the stored expiry, truncated.
        assert.equal(Date.parse(res.setCookie.attributes.expires), Math.floor(expires / 1000) * 1000);
        previous = expires;
      }
      assert.deepEqual(sets, [sid]);
      assert.deepEqual(touches, [sid, sid]);
    });

    test('req.session.regenerate gives a new id and the old one is gone from the store', async (t) => {
      const { store, client } = await startApp(t, express);
      const browser = client();
      const { json: { id: oldId } } = await browser.request('/count');
      const oldCookie = browser.cookie;
      assert.equal((await stored(store, oldId)).n, 1);

      const login = await browser.request('/login', { method: 'POST' });
      assert.equal(login.status, 200);
      assert.ok(login.setCookie, 'a new cookie');
      const newId = sidOf(login.setCookie.value);
      assert.equal(newId, login.json.id);
      assert.notEqual(newId, oldId);

      assert.equal(await stored(store, oldId), undefined, 'the old session is gone');
      const sess = await stored(store, newId);
      assert.equal(sess.user, 'ada');
      assert.equal(sess.n, undefined, 'regenerate starts from an empty session');
      assert.equal(await storeLength(store), 1);

      assert.equal((await browser.request('/peek')).json.user, 'ada');
      const replay = await browser.request('/peek', { cookie: oldCookie });
      assert.equal(replay.json.user, null, 'the old cookie is worth nothing');
      assert.notEqual(replay.json.id, oldId);
      assert.equal(await storeLength(store), 1, 'and revives nothing');
    });

    test('req.session.destroy removes the session from the store', async (t) => {
      const { store, client } = await startApp(t, express);
      const browser = client();
      const { json: { id: sid } } = await browser.request('/login', { method: 'POST' });
      assert.equal((await stored(store, sid)).user, 'ada');

      const out = await browser.request('/logout', { method: 'POST' });
      assert.equal(out.status, 200);
      assert.equal(out.json.destroyed, sid);
      assert.equal(await stored(store, sid), undefined);
      assert.equal(await storeLength(store), 0);

      // The browser still sends the old cookie: it gets nothing back, and a new session when it writes.
      const peek = await browser.request('/peek');
      assert.equal(peek.json.user, null);
      assert.equal(await storeLength(store), 0);
      const count = await browser.request('/count');
      assert.equal(count.json.n, 1);
      assert.notEqual(count.json.id, sid);
    });

    test('an expired session is not served any more and not returned by store.get', async (t) => {
      // Time is moved by hand (mocked Date, read by express-session's cookie and the store's clock): on the real
      // clock, a busy machine that took 300 ms between the response and the next store.get expired the session
      // before the test read it back.
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const { store, client } = await startApp(t, express, {
        sessionOptions: { cookie: { maxAge: 300 } },
        storeOptions: { clock: () => Date.now() },
      });
      const browser = client();
      const { json: first } = await browser.request('/count');
      assert.equal(first.n, 1);
      assert.equal((await stored(store, first.id)).n, 1);

      t.mock.timers.tick(299);
      assert.equal((await stored(store, first.id)).n, 1, '299 ms after it was set');
      t.mock.timers.tick(151);
      assert.equal(await stored(store, first.id), undefined, 'store.get: expired');
      assert.ok(!(first.id in await call(store, 'all')), 'store.all: expired');

      // The browser would drop the cookie; replaying it anyway must not revive the session.
      const again = await browser.request('/count');
      assert.equal(again.json.n, 1, 'a new session, not the expired one');
      assert.notEqual(again.json.id, first.id);
      assert.ok(again.setCookie, 'with a new cookie');
      assert.equal(sidOf(again.setCookie.value), again.json.id);
      assert.equal((await stored(store, again.json.id)).n, 1);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// the example app

describe('examples/app.mjs', () => {
  async function startExample(t) {
    const store = new MemFileStore();
    t.after(() => store.close());
    const base = await listen(t, createApp({ store, secret: SECRET }));
    return { store, browser: client(base, 'sid') };
  }

  test('login -> view counter -> logout over HTTP', async (t) => {
    const { store, browser } = await startExample(t);

    const home = await browser.request('/');
    assert.equal(home.status, 200);
    assert.match(home.headers.get('content-type'), /^text\/html/);
    assert.match(home.text, /<form method="post" action="\/login">/);
    assert.equal(home.setCookie, undefined, 'no session before login');
    assert.deepEqual((await browser.request('/api/me')).json, { user: null, views: 0 });
    assert.equal(await storeLength(store), 0);

    const login = await browser.request('/login', { method: 'POST', form: { name: '  Ada  ' } });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    assert.ok(login.setCookie, 'a session cookie');
    assert.equal(login.setCookie.attributes.httponly, true);
    assert.equal(login.setCookie.attributes.samesite, 'Lax');
    const sid = sidOf(login.setCookie.value);
    assert.deepEqual(
      { user: (await stored(store, sid)).user, views: (await stored(store, sid)).views },
      { user: 'Ada', views: 0 });

    for (const expected of [1, 2]) {
      const page = await browser.request('/');
      assert.match(page.text, /<span id="user">Ada<\/span>/);
      assert.match(page.text, new RegExp(`<strong id="views">${expected}</strong>`));
      assert.match(page.text, /action="\/logout"/);
    }
    assert.deepEqual((await browser.request('/api/me')).json, { user: 'Ada', views: 2 });
    assert.equal((await stored(store, sid)).views, 2);

    const loggedInCookie = browser.cookie;
    const logout = await browser.request('/logout', { method: 'POST' });
    assert.equal(logout.status, 303);
    assert.equal(logout.headers.get('location'), '/');
    assert.equal(logout.setCookie?.value, '', 'the cookie is cleared');
    assert.equal(browser.cookie, undefined);
    assert.equal(await stored(store, sid), undefined, 'the session is gone from the store');
    assert.equal(await storeLength(store), 0);

    // Replaying the old cookie gets nobody.
    assert.deepEqual((await browser.request('/api/me', { cookie: loggedInCookie })).json, { user: null, views: 0 });
    assert.match((await browser.request('/', { cookie: loggedInCookie })).text, /action="\/login"/);
  });

  test('logging in again gives a new session id (no session fixation)', async (t) => {
    const { store, browser } = await startExample(t);
    const first = await browser.request('/login', { method: 'POST', form: { name: 'Ada' } });
    const second = await browser.request('/login', { method: 'POST', form: { name: 'Grace' } });
    const [a, b] = [sidOf(first.setCookie.value), sidOf(second.setCookie.value)];
    assert.notEqual(a, b);
    assert.equal(await stored(store, a), undefined);
    assert.equal((await stored(store, b)).user, 'Grace');
    assert.deepEqual((await browser.request('/api/me')).json, { user: 'Grace', views: 0 });
  });

  test('rejects an empty or too long name and escapes the name in the page', async (t) => {
    const { store, browser } = await startExample(t);
    for (const name of ['', '   ', 'x'.repeat(65)]) {
      const res = await browser.request('/login', { method: 'POST', form: { name } });
      assert.equal(res.status, 400, JSON.stringify(name));
      assert.equal(res.setCookie, undefined);
    }
    assert.equal(await storeLength(store), 0);

    await browser.request('/login', { method: 'POST', form: { name: '<img src=x onerror=alert(1)>' } });
    const page = await browser.request('/');
    assert.doesNotMatch(page.text, /<img/);
    assert.match(page.text, /&#60;img src=x onerror=alert\(1\)&#62;/);
    assert.deepEqual((await browser.request('/api/me')).json, { user: '<img src=x onerror=alert(1)>', views: 1 });
  });

  test('createApp requires a secret', () => {
    assert.throws(() => createApp({ store: new MemFileStore() }), TypeError);
  });

  test('run directly: listens on PORT, prints the URL, serves, and exits 0 on SIGTERM', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'memfilestore-example-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const env = { ...process.env, PORT: '0', SESSION_FILE: join(dir, 'sessions.db') };
    delete env.SESSION_SECRET;
    delete env.NODE_OPTIONS; // the test runner's own flags are not the app's
    const app = fileURLToPath(new URL('../examples/app.mjs', import.meta.url));
    const child = spawn(process.execPath, [app], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const port = await new Promise((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d) => {
        stdout += d;
        const m = /Listening on http:\/\/localhost:(\d+)/.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      exited.then(({ code, signal }) => reject(new Error(`exited early (${code ?? signal}): ${stdout}${stderr}`)));
    });
    assert.ok(port > 0);
    assert.match(stderr, /SESSION_SECRET/, 'warns about the development secret');

    const browser = client(`http://127.0.0.1:${port}`, 'sid');
    assert.equal((await browser.request('/login', { method: 'POST', form: { name: 'Ada' } })).status, 303);
    assert.deepEqual((await browser.request('/api/me')).json, { user: 'Ada', views: 0 });

    child.kill('SIGTERM');
    const { code, signal } = await exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stdout: ${stdout}\nstderr: ${stderr}`);
  });
});
