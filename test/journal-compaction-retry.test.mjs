// A snapshot the journal's size calls for (the compaction) that fails, while the journal itself keeps working: the
// saveFile's directory renamed away under a running store (the journal's open descriptor still writes, every
// snapshot fails with ENOENT). It was started again at every event-loop turn that wrote, so a busy server got one
// 'error' event (or, without a listener, one process warning on stderr) per request for as long as the fault
// lasted. Retried once a second, as the journal's recovery is; once the directory is back, one succeeds and a
// restart loads everything. Real express + express-session over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import session from 'express-session';
import { MemFileStore } from 'express-memfilestore';
import { call, tempDir, track } from './fixtures/persist/helpers.mjs';

const PAD = 'x'.repeat(64 * 1024);

/** An app whose every request grows its session's counter and rewrites a 64 KiB session. */
async function startApp(t, store) {
  const app = express();
  app.use(session({ store, secret: 'compaction retry', resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
  app.get('/grow', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1;
    req.session.pad = PAD;
    res.send(String(req.session.n));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => { server.once('listening', resolve); });
  t.after(() => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }));
  const base = `http://127.0.0.1:${server.address().port}`;
  let cookie;
  return async () => {
    const res = await fetch(`${base}/grow`, { headers: cookie === undefined ? {} : { cookie } });
    cookie ??= res.headers.get('set-cookie').split(';')[0];
    return { status: res.status, body: await res.text(), sid: decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0] };
  };
}

test('a compaction that fails (the directory renamed away) is retried once a second, not at every request', { timeout: 60_000 }, async (t) => {
  const dir = join(tempDir(t), 'sessions');
  mkdirSync(dir);
  const file = join(dir, 'sessions.db');
  // No period: only the journal's size asks for snapshots.
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  const errors = [];
  store.on('error', (err) => { errors.push(err); });
  const grow = await startApp(t, store);
  await grow();
  await store.flush();

  renameSync(dir, `${dir}.moved`);
  t.after(() => { try { renameSync(`${dir}.moved`, dir); } catch { /* back already */ } });
  const started = performance.now();
  // 300 requests of 64 KiB: the journal passes its 8 MiB minimum after about 130, and every later request wrote.
  let last;
  for (let i = 2; i <= 301; i++) {
    last = await grow();
    assert.deepEqual([last.status, last.body], [200, String(i)], 'the app keeps serving from memory');
  }
  const seconds = (performance.now() - started) / 1000;
  assert.ok(store.stats.persistence.journal.bytes > 16 * 1024 * 1024, 'the journal went on past its limit');
  assert.ok(errors.length >= 1, 'the failure is reported');
  assert.ok(errors.every((err) => err.code === 'ENOENT'), errors.map((err) => err.code).join());
  assert.ok(errors.length <= Math.ceil(seconds) + 1,
    `${errors.length} 'error' events in ${seconds.toFixed(1)} s: one per request, not one a second`);
  assert.ok(store.stats.persistence.compactions <= Math.ceil(seconds) + 2, `${store.stats.persistence.compactions} compactions counted`);
  assert.equal(store.stats.persistence.journal.failed, false, 'the journal itself never failed');

  // The directory back: the next retry, a second at most after the last failure, absorbs the journal.
  renameSync(`${dir}.moved`, dir);
  await sleep(1100);
  const saved = new Promise((resolve) => { store.once('save', resolve); });
  for (let i = 302; i <= 303; i++) last = await grow();
  await saved;
  assert.ok(store.stats.persistence.journal.bytes < 1024 * 1024, `journal restarted (${store.stats.persistence.journal.bytes} bytes)`);

  await store.close();
  const restarted = track(t, new MemFileStore({ saveFile: file }));
  await restarted.ready;
  assert.equal((await call(restarted, 'get', last.sid)).n, 303, 'nothing acknowledged was lost');
});
