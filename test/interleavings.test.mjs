// Calls in flight together: issued in one event-loop turn, on the same and on different ids, in each journal mode.
// Earlier tests drive the store one awaited call at a time (differential, model); here, per the README ("Methods": every
// callback later and exactly once; "What a crash loses"): every callback comes once and never synchronously, the
// changes of one turn are acknowledged in the order they were made ('always': after their sync), memory after the
// turn is the calls applied in issue order (the last writer wins), what a restart loads equals memory (after close(),
// and after a SIGKILL of a real process right after the acknowledgements), and ids()/all()/length() taken while a
// snapshot is written in chunks (a flush, or one the journal's size started) give the state the store had when called.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { open } from './fixtures/journal/helpers.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/interleave/child.mjs', import.meta.url));
const MODES = [false, 'everysec', 'always'];

/** Sessions as sorted [id, session] pairs. */
const canon = (all) => JSON.stringify(Object.entries(all ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Starts the fixture child; `line(re)` waits for a line of its output; killed when the test ends. */
function child(t, role, file, journal) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const proc = spawn(process.execPath, [CHILD, role, file, String(journal)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let stderr = '';
  let wake = () => undefined;
  proc.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  createInterface({ input: proc.stdout }).on('line', (text) => { lines.push(text); wake(); });
  const exited = new Promise((resolve) => { proc.once('close', (code, signal) => { resolve({ code, signal }); wake(); }); });
  let done = false;
  void exited.then(() => { done = true; });
  t.after(async () => { if (!done) { proc.kill('SIGKILL'); await exited; } });
  return {
    /**
     * What `check(lines)` returns once it is truthy: lines come through a pipe, apart from the HTTP responses. The
     * deadline only bounds a child that hangs: on a loaded machine its start alone took seconds.
     */
    async until(check, what) {
      for (const end = Date.now() + 60_000; ;) {
        const found = check(lines);
        if (found) return found;
        if (done || Date.now() > end) throw new Error(`no ${what}; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`);
        await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 100); });
      }
    },
    line(pattern) {
      return this.until((all) => all.map((l) => pattern.exec(l)).find(Boolean), `line ${pattern}`);
    },
    async kill() {
      proc.kill('SIGKILL');
      assert.equal((await exited).signal, 'SIGKILL');
    },
  };
}

for (const journal of MODES) {
  test(`journal ${journal}: one turn of calls on the same ids: callbacks once, later, changes in issue order; memory and a restart are the last writes`, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const store = await open(t, file, { journal });
    await call(store, 'set', 'x', session({ v: 0 }));
    const calls = [];
    let sync = true;
    const issue = (method, ...args) => {
      const c = { method, args, calls: 0, sync: false, err: undefined, value: undefined };
      calls.push(c);
      store[method](...args, (err, value) => {
        c.calls++;
        c.sync ||= sync;
        c.err = err;
        c.value = value;
        c.at = order.length;
        order.push(calls.indexOf(c));
      });
      return c;
    };
    const order = [];
    issue('set', 'a', session({ v: 1 }));
    issue('set', 'a', session({ v: 2 }));
    const getA = issue('get', 'a');
    issue('destroy', 'a');
    issue('touch', 'a', session({ v: 'touch after destroy' })); // a missing session: no upsert
    issue('set', 'a', session({ v: 3 }));
    issue('touch', 'a', session({ v: 3 }, 7_200_000));
    issue('destroy', ['x', 'b', 'missing']);
    issue('set', 'b', session({ v: 1 }));
    const lengthBefore = issue('length');
    const idsBefore = issue('ids');
    issue('clear');
    issue('set', 'c', session({ v: 1 }));
    issue('destroy', 'nobody');
    issue('set', 'd', session({ v: 1 }));
    const getD = issue('get', 'd');
    sync = false;
    await new Promise((resolve) => { store.flush().then(resolve, resolve); }); // every callback of the turn by then
    for (let i = 0; i < 5 && order.length < calls.length; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const c of calls) {
      assert.equal(c.calls, 1, `${c.method} called back once`);
      assert.equal(c.sync, false, `${c.method} not called back synchronously`);
      assert.equal(c.err ?? null, null, `${c.method}: no error`);
    }
    const changes = calls.filter((c) => !['get', 'ids', 'length'].includes(c.method) &&
      !(c.method === 'touch' && c.args[1].v === 'touch after destroy'));
    assert.deepEqual(changes.map((c) => c.at), changes.map((c) => c.at).sort((x, y) => x - y), 'changes acknowledged in issue order');
    assert.equal(getA.value.v, 2, 'a get sees the sets made before it in its turn');
    assert.equal(getD.value.v, 1);
    assert.equal(lengthBefore.value, 2, 'length when called: a and b (x destroyed)');
    assert.deepEqual(idsBefore.value, ['b', 'a'], 'ids when called: most recently used first');
    const memory = canon(await call(store, 'all'));
    assert.deepEqual(JSON.parse(memory).map(([id]) => id), ['c', 'd'], 'cleared, then c and d set');
    if (journal !== false) assert.equal(store.stats.persistence.journal.pending, 0);
    await store.close();
    const again = await open(t, file, { journal });
    assert.equal(canon(await call(again, 'all')), memory, 'a restart after close() loads memory');
  });
}

for (const journal of ['everysec', 'always']) {
  test(`journal ${journal}: SIGKILL right after a turn's acknowledgements (a flush, evictions by max with a hook's change, a clear among them): a restart loads memory`, { timeout: 120_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const proc = child(t, 'turn', file, journal);
    const [, json] = await proc.line(/^acked (.*)$/);
    await proc.kill();
    const { errors, all, err } = JSON.parse(json);
    assert.deepEqual(errors, []);
    assert.equal(err, undefined);
    assert.deepEqual(Object.keys(all).sort(), ['e59', 'z'], 'cleared in the turn, then z and e59 set');
    assert.equal(all.e59.v, 'after the clear');
    const store = await open(t, file, { journal, max: 50 });
    assert.equal(canon(await call(store, 'all')), canon(all));
  });

  test(`journal ${journal}: 10 parallel requests with one cookie modify the session (resave: false, rolling: true); after SIGKILL the session holds the last acknowledged write`, { timeout: 120_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    let app = child(t, 'http', file, journal);
    let base = `http://127.0.0.1:${(await app.line(/^listening (\d+)$/))[1]}`;
    let cookie;
    const request = async (method, path) => {
      const res = await fetch(`${base}${path}`, { method, headers: cookie ? { cookie } : {} });
      const set = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
      if (set) cookie = set.split(';')[0];
      assert.equal(res.status, 200);
      return res.json();
    };
    await request('POST', '/login');
    await Promise.all(Array.from({ length: 10 }, (_, n) => request('POST', `/mark/${n}`)));
    // A response can reach this process before the child's ack line, written before it, is read from the pipe.
    const acks = await app.until((all) => {
      const found = all.filter((l) => l.startsWith('ack ')).map((l) => l.split(' '));
      return found.length >= 11 && found;
    }, '11 ack lines');
    assert.equal(acks.length, 11, 'the login and every request saved the session');
    assert.ok(acks.every(([, , outcome]) => outcome === 'ok'), acks.join('; '));
    const last = acks.at(-1)[1];
    await app.kill();
    app = child(t, 'http', file, journal);
    base = `http://127.0.0.1:${(await app.line(/^listening (\d+)$/))[1]}`;
    assert.deepEqual(await request('GET', '/state'), { user: 'alice', mark: last });
  });
}

for (const journal of MODES) {
  // 6.5 s of CPU time, 46-62 s of wall time at load average 15 (the 60 s it was given timed out twice in one run).
  test(`journal ${journal}: ids(), all() and length() while a snapshot of 20k sessions is written give the state when called`, { timeout: 300_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const store = await open(t, file, { journal });
    const model = new Map();
    let acks = [];
    for (let i = 0; i < 20_000; i++) {
      model.set(`s${i}`, i);
      acks.push(call(store, 'set', `s${i}`, session({ i })));
    }
    await Promise.all(acks.splice(0));
    await store.flush();
    let started;
    if (journal === false) started = store.flush();
    else {
      // Past the journal's 8 MiB minimum: its write starts a snapshot (a compaction).
      const big = 'x'.repeat(600_000);
      for (let i = 0; i < 15; i++) {
        model.set(`big${i}`, i);
        acks.push(call(store, 'set', `big${i}`, session({ big })));
      }
    }
    let duringSave = 0;
    for (let turn = 0; turn < 60; turn++) {
      if (store.stats.persistence.saving) duringSave++;
      const expected = [...model.keys()].sort();
      const results = await Promise.all([call(store, 'ids'), call(store, 'all'), call(store, 'length')].map((p, i) => p.then((v) => [i, v])));
      for (let k = 0; k < 20; k++) {
        const id = `s${(turn * 20 + k) * 7 % 20_000}`;
        if (k % 3 === 0) {
          model.delete(id);
          acks.push(call(store, 'destroy', id));
        } else {
          model.set(id, turn);
          acks.push(call(store, 'set', id, session({ turn })));
        }
      }
      const [[, ids], [, all], [, length]] = results;
      assert.deepEqual([...ids].sort(), expected, `turn ${turn}: ids() as when called, each id once`);
      assert.deepEqual(Object.keys(all).sort(), expected, `turn ${turn}: all() as when called`);
      assert.equal(length, expected.length, `turn ${turn}: length() as when called`);
    }
    await Promise.all(acks);
    await started;
    assert.ok(duringSave > 0, 'some calls were made while a snapshot was written');
    if (journal !== false) assert.equal(store.stats.persistence.compactions, 1);
    const memory = canon(await call(store, 'all'));
    await store.close();
    assert.equal(canon(await call(await open(t, file, { journal }), 'all')), memory);
  });
}
