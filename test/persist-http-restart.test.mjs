// Restart over real HTTP: express + express-session + our store in a child process (fixture role "http"),
// a browser-like client keeping its cookie. After the app restarts on the same file the same cookie still
// finds the same session: after a graceful stop (SIGTERM, closeOnSignals) and after kill -9 following a flush.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSnapshot, startChild, tempDir } from './fixtures/persist/helpers.mjs';

const TIMEOUT = { timeout: 30_000 };

async function startApp(t, file) {
  const child = startChild(t, 'http', [file]);
  const [, port] = await child.line(/^listening (\d+)$/);
  return { child, base: `http://127.0.0.1:${port}` };
}

/** A browser for one user: sends the cookie it holds, keeps the one the server sets. */
function browser() {
  let cookie;
  const request = async (base, method, path) => {
    const res = await fetch(`${base}${path}`, { method, headers: cookie ? { cookie } : {} });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
    if (set) cookie = set.split(';')[0];
    return { status: res.status, body: await res.json() };
  };
  return {
    get cookie() {
      return cookie;
    },
    login: (base, name) => request(base, 'POST', `/login/${name}`),
    views: (base) => request(base, 'GET', '/views'),
  };
}

test('a graceful restart (SIGTERM, closeOnSignals) keeps every session: the same cookie continues', TIMEOUT, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const alice = browser();
  const bob = browser();
  const first = await startApp(t, file);
  assert.equal((await alice.login(first.base, 'alice')).status, 200);
  assert.deepEqual((await alice.views(first.base)).body.views, 1);
  const before = (await alice.views(first.base)).body;
  assert.equal(before.views, 2);
  await bob.login(first.base, 'bob');
  assert.deepEqual((await bob.views(first.base)).body.views, 1);
  assert.equal(existsSync(file), false, 'nothing saved yet (savePeriod is 60 s): the stop must save');

  assert.deepEqual(await first.child.kill('SIGTERM'), { code: null, signal: 'SIGTERM' }, first.child.stderr);
  assert.equal(existsSync(`${file}.lock`), false, 'the lock was released');
  assert.equal(decodeSnapshot(readFileSync(file)).records.length, 2);

  const second = await startApp(t, file);
  const again = await alice.views(second.base);
  assert.equal(again.status, 200, 'the cookie still names a session');
  assert.deepEqual({ user: again.body.user, views: again.body.views }, { user: 'alice', views: 3 });
  assert.notEqual(again.body.pid, before.pid, 'served by the new process');
  const bobAgain = await bob.views(second.base);
  assert.deepEqual({ user: bobAgain.body.user, views: bobAgain.body.views }, { user: 'bob', views: 2 });
  assert.equal((await browser().views(second.base)).status, 401, 'no cookie, no session');
});

test('kill -9 right after flush(): the flushed session survives, the cookie continues', TIMEOUT, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const alice = browser();
  const first = await startApp(t, file);
  await alice.login(first.base, 'alice');
  await alice.views(first.base);
  assert.equal((await alice.views(first.base)).body.views, 2);
  const flushed = await fetch(`${first.base}/flush`, { method: 'POST' });
  assert.equal(flushed.status, 200);
  assert.deepEqual(await first.child.kill('SIGKILL'), { code: null, signal: 'SIGKILL' });
  assert.equal(existsSync(`${file}.lock`), true, 'the killed app could not release its lock');

  const second = await startApp(t, file);
  const again = await alice.views(second.base);
  assert.equal(again.status, 200, `the cookie still names a session: ${JSON.stringify(again.body)}`);
  assert.deepEqual({ user: again.body.user, views: again.body.views }, { user: 'alice', views: 3 });
});
