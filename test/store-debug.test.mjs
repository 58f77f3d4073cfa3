// Debug output (DEBUG=MemFileStore) never prints session contents or ids: they hold personal data and
// credentials (a session id is a bearer token). memorystore 1.6.8 printed whole sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

test('DEBUG=MemFileStore logs, but never a session id or session data', () => {
  const script = `
    const { MemFileStore } = require('express-memfilestore');
    let now = 1700000000000;
    const store = new MemFileStore({ checkPeriod: 1000, max: 3, clock: () => now });
    const sid = 'SID-secret-7f3a9c';
    const sess = (n) => ({ cookie: { maxAge: 1000 }, email: 'user@example.com', token: 'TOKEN-secret-' + n });
    const step = (fn) => new Promise((resolve) => fn(resolve));
    (async () => {
      for (let i = 0; i < 5; i++) await step((cb) => store.set(sid + i, sess(i), cb));
      await step((cb) => store.get(sid + 4, cb));
      await step((cb) => store.get('SID-secret-missing', cb));
      await step((cb) => store.touch(sid + 4, sess(4), cb));
      await step((cb) => store.destroy([sid + 3, sid + 2], cb));
      await step((cb) => store.ids(cb));
      await step((cb) => store.all(cb));
      await step((cb) => store.length(cb));
      now += 5000;
      store.prune();
      await step((cb) => store.clear(cb));
      await store.close();
    })();
  `;
  const child = spawnSync(process.execPath, ['-e', script], {
    cwd: repoRoot, encoding: 'utf8', timeout: 20_000, env: { ...process.env, DEBUG: 'MemFileStore', DEBUG_COLORS: '0' },
  });
  assert.equal(child.status, 0, child.stderr);
  const output = child.stdout + child.stderr;
  assert.match(output, /MemFileStore/, 'debug output is enabled under the MemFileStore namespace');
  for (const secret of ['SID-secret', 'TOKEN-secret', 'user@example.com', 'cookie', 'maxAge']) {
    assert.ok(!output.includes(secret), `debug output must not contain "${secret}":\n${output}`);
  }
});
