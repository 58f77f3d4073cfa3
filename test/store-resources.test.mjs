// What a process that runs for weeks, or a test suite that makes thousands of stores, keeps of each store: once it is
// closed, nothing (no file descriptor, signal listener, timer or file but the snapshot), however it was closed (twice,
// during a save, with its journal rotating under load); and a store never closed never keeps the process running.
// Counts that must be exactly equal, so a single leaked descriptor or listener fails.
import { createHook } from 'node:async_hooks';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { runNode } from './fixtures/faults/lib.mjs';

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'];
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** The process's open descriptors, with what each is (a leak names its file). */
const descriptors = () => readdirSync('/proc/self/fd').map((fd) => {
  try {
    return `${fd} ${readlinkSync(`/proc/self/fd/${fd}`)}`;
  } catch {
    return undefined; // the directory listing's own descriptor, closed meanwhile
  }
}).filter((fd) => fd !== undefined).sort();

/** Everything a store could leave behind in this process. */
const resources = () => ({
  fds: descriptors(),
  listeners: Object.fromEntries([...SIGNALS, 'exit', 'beforeExit'].map((name) => [name, process.listenerCount(name)])),
  // Handles and timers; not requests (CloseReq, FSReqCallback): the runner's own come and go, and the store's are awaited.
  handles: process.getActiveResourcesInfo().filter((name) => !name.endsWith('Req') && !name.startsWith('FSReq')).sort(),
});

/**
 * Timers created from now on and not cleared yet: the store's are unref'd, which getActiveResourcesInfo() does not list,
 * so a forgotten interval would go unseen there. `stop()` ends the tracking and returns them.
 */
function trackTimers() {
  const live = new Map();
  const hook = createHook({
    init(id, type) { if (type === 'Timeout') live.set(id, new Error('created here').stack); },
    destroy(id) { live.delete(id); },
  }).enable();
  return { stop: () => { hook.disable(); return [...live.values()]; } };
}

test('stores opened and closed in every mode leave no descriptor, listener, timer or file behind', {
  skip: process.platform !== 'linux' && 'reads /proc/self/fd', timeout: 30_000,
}, async (t) => {
  const dir = tempDir(t);
  const before = resources();
  const timers = trackTimers();
  const modes = [{ journal: 'everysec' }, { journal: 'always' }, { journal: false }, { memoryOnly: true }];
  for (const [m, mode] of modes.entries()) {
    for (let i = 0; i < 24; i++) {
      const store = new MemFileStore({
        ...(mode.memoryOnly ? {} : { saveFile: join(dir, `s${m}-${i % 3}.db`), journal: mode.journal, savePeriod: 5 }),
        closeOnSignals: i % 2 === 0 ? SIGNALS : false, checkPeriod: 3, max: 20,
      });
      store.on('error', (err) => { assert.fail(err); });
      await store.ready;
      const writes = [];
      for (let k = 0; k < 30; k++) writes.push(call(store, 'set', `s${k}`, session({ k })));
      if (i % 3 === 0) await Promise.all(writes);
      // Saves that rotate the journal under writes still waiting for their sync, then closes in every position.
      const saves = [store.flush(), store.flush()];
      if (i % 4 === 1) await new Promise((resolve) => setTimeout(resolve, 12));
      const closes = [store.close(), store.close()];
      await Promise.all([...writes.map((w) => w.catch(() => undefined)), ...saves.map((s) => s.catch(() => undefined)), ...closes]);
      await store.close();
    }
  }
  await turn();
  await turn(); // destroy hooks run a turn after the timer is cleared
  assert.deepEqual(timers.stop(), [], 'timers left running');
  assert.deepEqual(resources(), before);
  assert.deepEqual(readdirSync(dir).sort(), ['s0-0.db', 's0-1.db', 's0-2.db', 's1-0.db', 's1-1.db', 's1-2.db', 's2-0.db', 's2-1.db', 's2-2.db']);
});

test('a hundred stores with closeOnSignals share one listener per signal, with no MaxListenersExceededWarning', async (t) => {
  const dir = tempDir(t);
  const warnings = [];
  const onWarning = (warning) => { warnings.push(warning.name); };
  process.on('warning', onWarning);
  t.after(() => { process.off('warning', onWarning); });
  const before = resources();
  const stores = [];
  for (let i = 0; i < 100; i++) {
    stores.push(new MemFileStore(i % 2 === 0 ? { closeOnSignals: SIGNALS } : { saveFile: join(dir, `${i}.db`), closeOnSignals: SIGNALS }));
  }
  for (const signal of SIGNALS) assert.equal(process.listenerCount(signal), before.listeners[signal] + 1, signal);
  await Promise.all(stores.map((store) => store.close()));
  await turn();
  assert.deepEqual(resources(), before);
  assert.deepEqual(warnings, []);
});

test('a process that never closes its stores still exits by itself once its work is done', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  // Every timer a store can run: prune, snapshot period, journal sync, lock heartbeat; changes waiting for their sync.
  const script = `
    import { MemFileStore } from 'express-memfilestore';
    const session = { cookie: { maxAge: 3600000, originalMaxAge: 3600000 } };
    for (const journal of ['everysec', 'always', false]) {
      const store = new MemFileStore({ saveFile: ${JSON.stringify(dir)} + '/' + journal + '.db', journal, savePeriod: 10,
        checkPeriod: 10, closeOnSignals: true });
      for (let i = 0; i < 50; i++) store.set('s' + i, session);
      store.flush();
    }
    new MemFileStore({ checkPeriod: 10, closeOnSignals: true }).set('m', session);
    setTimeout(() => { process.stdout.write('done'); }, 100);
  `;
  const started = Date.now();
  const { code, signal, stdout, stderr } = await runNode(['--input-type=module', '-e', script], { timeout: 15_000 });
  assert.equal(signal, null, `killed after ${Date.now() - started} ms: the process did not exit by itself`);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, 'done');
  // What a kill leaves: the snapshot, its journal and lock (the next start takes the lock over), no temp file.
  assert.ok(readdirSync(dir).every((name) => /^(everysec|always|false)\.db(\.lock|\.journal\.\d+)?$/.test(name)), readdirSync(dir).join(', '));
});
