// A restart or deploy of a 2.x app on one saveFile, in the orders process managers use: the new process started while
// the old one still runs (a zero-downtime reload, pm2 cluster mode), then the old one stopped with SIGINT; and the old one
// sent SIGTERM with the new one started at once. Real express apps (fixtures/upgrade/app.mjs, closeOnSignals) in child
// processes, users as cookie-keeping HTTP clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './fixtures/persist/helpers.mjs';
import { browser, startApp as startRelease } from './fixtures/upgrade/client.mjs';

/** The 2.x app on `file`. */
const startApp = (t, file) => startRelease(t, ['2', file]);
const TIMEOUT = { timeout: 60_000 };

async function loggedIn(app, users) {
  const seen = [];
  for (const user of users) {
    const { status, user: who } = await user.views(app);
    if (status === 200 && who === user.name) seen.push(who);
  }
  return seen;
}

const users = () => Array.from({ length: 10 }, (_, i) => browser(`user${i}`));

test('new release started while the old one runs: refused at once, saying to start it once the old one has exited; then it keeps every session', TIMEOUT, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const everyone = users();
  const old = await startApp(t, file);
  for (const user of everyone) await user.login(old);

  const early = await startApp(t, file);
  assert.equal(early.base, undefined);
  assert.match(early.refusal, new RegExp(`^refused ERR_SNAPSHOT_LOCKED .* is in use by running process ${old.pid}\\b`));
  // A restart is not "several processes": the message must not leave Redis as the only way out.
  assert.match(early.refusal, /start .*once .*(exited|stopped)/, early.refusal);
  assert.deepEqual(await loggedIn(old, everyone), everyone.map((u) => u.name), 'the old release kept serving');

  assert.deepEqual(await old.stop('SIGINT'), { code: null, signal: 'SIGINT' });
  const next = await startApp(t, file);
  assert.deepEqual(await loggedIn(next, everyone), everyone.map((u) => u.name));
});

test('SIGTERM to the old release and the new one started at once: it starts, or is refused until the old one has exited; no session is lost', TIMEOUT, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const everyone = users();
  const old = await startApp(t, file);
  for (const user of everyone) await user.login(old);
  for (const user of everyone) await user.views(old);

  old.stop('SIGTERM');
  let next = await startApp(t, file);
  if (next.base === undefined) {
    assert.match(next.refusal, /^refused ERR_SNAPSHOT_LOCKED /);
    await old.exited; // what a process manager's restart does: start it again
    next = await startApp(t, file);
  }
  assert.deepEqual(await old.exited, { code: null, signal: 'SIGTERM' });
  assert.deepEqual(await loggedIn(next, everyone), everyone.map((u) => u.name));
  const { views } = await everyone[0].views(next);
  assert.equal(views, 3, 'the views made on the old release were kept');
});

test('nodemon\'s restart signal, SIGUSR2, which closeOnSignals leaves alone: no final snapshot, yet the journal keeps every session', TIMEOUT, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const everyone = users();
  const old = await startApp(t, file);
  for (const user of everyone) await user.login(old);
  assert.deepEqual(await old.stop('SIGUSR2'), { code: null, signal: 'SIGUSR2' });
  const next = await startApp(t, file);
  assert.deepEqual(await loggedIn(next, everyone), everyone.map((u) => u.name));
});
