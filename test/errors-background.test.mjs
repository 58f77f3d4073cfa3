// Background failures (the prune timer's dispose hook, a periodic save, the clock read on a timer) never crash the
// host and are never silent: without an 'error' listener each is a process warning that Node prints on stderr, one
// line naming the file where there is one, without a stack trace. A real child process, as an app runs the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/persist/helpers.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/errors/background-child.mjs', import.meta.url));

test('without an \'error\' listener: each background failure is a printed warning, and the process lives on', async (t) => {
  const dir = tempDir(t);
  const { code, stdout, stderr } = await new Promise((resolve) => {
    execFile(process.execPath, [CHILD, dir], { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 },
      (err, out, errOut) => { resolve({ code: err ? err.code ?? err.signal : 0, stdout: out, stderr: errOut }); });
  });
  assert.equal(code, 0, stderr);
  assert.equal(stdout, 'alive\n', stderr);
  assert.match(stderr, /\(node:\d+\) Error: the dispose hook failed/);
  assert.match(stderr, new RegExp(`\\(node:\\d+\\) \\[ENOENT\\] Error: express-memfilestore: could not save "${dir}/data/sessions\\.db"`));
  assert.match(stderr, /\(node:\d+\) Error: express-memfilestore: the clock option threw \(the clock failed\)/);
  assert.ok(!/^\s+at /m.test(stderr), `no stack trace:\n${stderr}`);
});
