// A request still running when SIGTERM arrives, over real HTTP to a real child process whose app drains its server
// before exiting. The README's "Graceful shutdown" pattern (close the server, then the store) keeps that request's
// session. closeOnSignals closes the store when the signal arrives: the request still answers 200 with its cookie, but
// its session change is refused (ERR_STORE_CLOSED reaches the error handler after the response), as the README says
// next to the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSnapshot, startChild, tempDir } from './fixtures/persist/helpers.mjs';

const idsIn = (file) => (existsSync(file) ? decodeSnapshot(readFileSync(file)).records.map((r) => r.id) : []);

for (const mode of ['readme', 'option']) {
  const title = mode === 'readme'
    ? "SIGTERM during a request, with the README's handler (server, then store): the request's session is in the final snapshot"
    : 'SIGTERM during a request, with closeOnSignals and a handler that drains the server: a 200 whose session was refused';
  test(title, { timeout: 20_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const child = startChild(t, 'drain', [file, mode]);
    const [, port] = await child.line(/^listening (\d+)$/);
    const response = fetch(`http://127.0.0.1:${port}/slow`, { method: 'POST' });
    await child.line(/^in flight$/);
    child.proc.kill('SIGTERM');
    const res = await response;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { user: 'alice' });
    const cookie = /^sid=s%3A([^.]+)\./.exec(res.headers.get('set-cookie') ?? '');
    assert.ok(cookie, 'the response sets the session cookie');
    assert.deepEqual(await child.exited, { code: 0, signal: null }, child.stderr);
    if (mode === 'readme') {
      assert.deepEqual(idsIn(file), [decodeURIComponent(cookie[1])], 'the session of the request in flight was saved');
      assert.equal(child.lines.some((l) => l.startsWith('store error')), false, child.lines.join('\n'));
    } else {
      assert.deepEqual(idsIn(file), [], 'the store had closed before the request saved its session');
      assert.ok(child.lines.includes('store error ERR_STORE_CLOSED'), child.lines.join('\n'));
    }
  });
}

test('SIGTERM during a request, with closeOnSignals and no handler of the app: the process ends and the request is cut', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const child = startChild(t, 'drain', [file, 'alone']);
  const [, port] = await child.line(/^listening (\d+)$/);
  const response = fetch(`http://127.0.0.1:${port}/slow`, { method: 'POST' });
  await child.line(/^in flight$/);
  child.proc.kill('SIGTERM');
  await assert.rejects(response, TypeError, 'no answer: the signal ended the process once the store had closed');
  assert.deepEqual(await child.exited, { code: null, signal: 'SIGTERM' }, child.stderr);
  assert.deepEqual(idsIn(file), [], 'the session of the request in flight was not saved');
});
