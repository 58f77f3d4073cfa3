// The README's "Quick start": `npm start` builds, then serves the example app (examples/app.mjs), a login and
// view-counter page; "log in, restart it, and you are still logged in", and PORT overrides the port. Run here as
// `npm start` runs it, minus the build (the suite runs against the dist/ already built): the command is checked
// against package.json. The app uses the default journal, so a kill -9 keeps the login too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { block, login, ROOT, startApp } from './fixtures/readme/project.mjs';

const LISTENING = /^Listening on http:\/\/localhost:(\d+)$/;

test('"Quick start": npm start is the build and the example app; the block says so', () => {
  const { code } = block(/^npm install && npm start/);
  assert.match(code, /npm start\s+# builds, then serves the example app at http:\/\/localhost:3000 \(PORT overrides\)/);
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(scripts.start, 'npm run build && node examples/app.mjs');
  assert.equal(scripts.test, 'npm run build && node scripts/test.mjs');
  assert.match(readFileSync(join(ROOT, 'scripts/test.mjs'), 'utf8'), /\['--test', `--test-concurrency=/, "node's test runner");
});

/** The page of `/` for `cookie`: who is logged in and the view count, as the app renders them. */
async function page(port, cookie) {
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } });
  const html = await res.text();
  return { user: /<span id="user">([^<]*)</.exec(html)?.[1], views: Number(/<strong id="views">(\d+)</.exec(html)?.[1]) };
}

for (const [stop, signal] of [['a restart (Ctrl-C)', 'SIGINT'], ['a kill -9 (the default journal)', 'SIGKILL']]) {
  test(`the example app: log in, ${stop}, still logged in, the view count goes on`, { timeout: 60_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'memfilestore-example-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const env = { PORT: '0', SESSION_FILE: join(dir, 'sessions.db'), SESSION_SECRET: 'example app test' };
    const first = startApp(t, ROOT, 'examples/app.mjs', { env });
    const [, port] = await first.line(LISTENING);
    const cookie = await login(port, 'ada');
    assert.deepEqual(await page(port, cookie), { user: 'ada', views: 1 });
    if (signal === 'SIGKILL') {
      // No snapshot was due yet (savePeriod 5 s is not waited for): the journal beside the file holds the login.
      assert.ok(readdirSync(dir).some((name) => name.startsWith('sessions.db.journal.')), 'the default journal is on');
    }
    first.proc.kill(signal);
    const end = await first.exited;
    if (signal === 'SIGINT') assert.deepEqual(end, { code: 0, signal: null }, first.stderr());

    const second = startApp(t, ROOT, 'examples/app.mjs', { env });
    const [, port2] = await second.line(LISTENING);
    assert.deepEqual(await page(port2, cookie), { user: 'ada', views: 2 });
  });
}
