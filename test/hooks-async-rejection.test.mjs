// User code the store calls that is `async` and fails: its promise rejects. The store promises that an exception in
// `dispose`, or in a listener of 'load'/'save', is reported as an 'error' event (a process warning without a
// listener), never thrown at the caller: "a background failure never crashes your server". An async hook's
// exception is a rejected promise, which the store dropped: Node ends the process on an unhandled rejection, so an
// `async (sid) => { await db.audit(sid) }` dispose hook whose database was down killed the server at the first
// logout. A `ttl` function or `serializer.stringify` that is async gets its set a TypeError (it returned no number,
// no string); its rejection must not kill the process on top of that. Each case runs in a child process, where an
// unhandled rejection ends it with code 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode } from './fixtures/faults/lib.mjs';

/** Runs `body` (ES module code with `MemFileStore`, `call`, `session`, `file` and `out(value)` in scope) in a child. */
async function runChild(t, body) {
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-async-hooks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = `
    import { MemFileStore } from 'express-memfilestore';
    const file = ${JSON.stringify(join(dir, 'sessions.db'))};
    const call = (store, method, ...args) => new Promise((resolve) => {
      store[method](...args, (err, value) => resolve(err ? 'error: ' + err.message : value ?? null));
    });
    const session = (data) => ({ cookie: { originalMaxAge: 3600000, maxAge: 3600000, httpOnly: true, path: '/' }, ...data });
    const out = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
    const turns = async (n) => { for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 5)); };
    ${body}
    out('alive');
  `;
  const { code, stdout, stderr } = await runNode(['--input-type=module', '-e', script]);
  assert.equal(code, 0, `the process survives; stderr: ${stderr}`);
  return { lines: stdout.trim().split('\n').map((line) => JSON.parse(line)), stderr };
}

test('an async dispose hook that rejects: reported as an error event, once per hook; the calls answer and persist', async (t) => {
  const { lines } = await runChild(t, `
    const store = new MemFileStore({ saveFile: file, savePeriod: 0, dispose: async (sid, _value, reason) => {
      await null;
      if (sid === 'b') throw undefined;
      throw new Error('audit failed for ' + sid + ' (' + reason + ')');
    } });
    const errors = [];
    store.on('error', (err) => { errors.push(err instanceof Error ? err.message : 'not an Error'); });
    out(await call(store, 'set', 'a', session({ n: 1 })));
    out(await call(store, 'set', 'a', session({ n: 2 })));
    out(await call(store, 'set', 'b', session({ n: 3 })));
    out(await call(store, 'destroy', 'b'));
    await turns(3);
    out(errors);
    await store.close();
    const after = new MemFileStore({ saveFile: file });
    out(await call(after, 'get', 'a'));
    await after.close();
  `);
  assert.deepEqual(lines.slice(0, 4), [null, null, null, null], 'each call is acknowledged');
  const errors = lines[4];
  assert.equal(errors.length, 2, errors.join('; '));
  assert.equal(errors[0], 'audit failed for a (set)');
  assert.notEqual(errors[1], 'not an Error', 'a rejection with undefined is reported as an Error');
  assert.equal(lines[5].n, 2, 'a restart serves the session');
  assert.equal(lines.at(-1), 'alive');
});

test('an async dispose hook that rejects, without an error listener: a process warning, not a crash', async (t) => {
  const { lines, stderr } = await runChild(t, `
    const store = new MemFileStore({ dispose: async () => { throw new Error('dispose rejected'); } });
    out(await call(store, 'set', 'a', session({})));
    out(await call(store, 'clear'));
    await turns(3);
  `);
  assert.deepEqual(lines, [null, null, 'alive']);
  assert.match(stderr, /dispose rejected/, 'the failure is not silent');
});

test('an async ttl function or serializer.stringify: the set gets a TypeError, nothing is stored, the process survives', async (t) => {
  const { lines } = await runChild(t, `
    for (const options of [
      { ttl: async () => { throw new Error('ttl lookup failed'); } },
      { serializer: { stringify: async () => { throw new Error('encryption failed'); }, parse: JSON.parse } },
    ]) {
      const store = new MemFileStore(options);
      out(await call(store, 'set', 'a', session({})));
      out(await call(store, 'length'));
    }
    await turns(3);
  `);
  assert.equal(lines.length, 5, lines.join('; '));
  for (const i of [0, 2]) assert.match(lines[i], /^error: .*must return .*Promise/, 'the error says what was returned');
  assert.equal(lines[1], 0);
  assert.equal(lines[3], 0);
});

test("async 'save', 'load' and 'error' listeners that reject: reported (the last as a warning), the process survives", async (t) => {
  const { lines, stderr } = await runChild(t, `
    const store = new MemFileStore({ saveFile: file, savePeriod: 0 });
    const errors = [];
    store.on('load', async () => { throw new Error('load listener rejected'); });
    store.on('save', async () => { throw new Error('save listener rejected'); });
    store.on('error', async (err) => { errors.push(err.message); throw new Error('error listener rejected'); });
    out(await call(store, 'set', 'a', session({})));
    await store.flush();
    await turns(3);
    out(errors.sort());
    await store.close();
  `);
  assert.equal(lines[0], null);
  assert.deepEqual(lines[1], ['load listener rejected', 'save listener rejected']);
  assert.match(stderr, /error listener rejected/, 'a rejecting error listener becomes a process warning');
});
