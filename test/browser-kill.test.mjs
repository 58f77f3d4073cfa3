// Issue 9's reproduction, done as a user does it: in Chromium, log in to the example app (`npm start`'s app, its
// default journal 'everysec'), kill -9 the server 1.5 s later, start it again on the same file and reload: still
// logged in, the view count going on. The same steps on a store with `journal: false` (snapshots only, as before
// the journal) lose the login: the control shows the steps can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { canUseChromium, openBrowser } from './fixtures/browser/chromium.mjs';
import { tempDir } from './fixtures/persist/helpers.mjs';

const EXAMPLE = fileURLToPath(new URL('../examples/app.mjs', import.meta.url));
const CONTROL = fileURLToPath(new URL('./fixtures/browser/app.mjs', import.meta.url));

/** Starts `node script ...args`; resolves once it listens, with its base URL (127.0.0.1: cookies ignore the port). */
async function startApp(t, args, env = {}) {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => proc.once('close', (code, signal) => resolve(signal ?? code)));
  t.after(async () => {
    proc.kill('SIGKILL');
    await exited;
  });
  const port = await new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const listening = /^Listening on http:\/\/localhost:(\d+)$/.exec(line);
      if (listening) resolve(Number(listening[1]));
    });
    exited.then((how) => reject(new Error(`the app exited (${how}) before listening: ${stderr}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    async kill9() {
      proc.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
    },
  };
}

/** What the page shows: the logged-in user and view count, or null on the login form. */
const shown = (page) => page.evaluate(`(() => {
  const user = document.querySelector('#user');
  return user ? { user: user.textContent, views: Number(document.querySelector('#views').textContent) } : null;
})()`);

/** Logs in as a user would, kills the app 1.5 s later, starts it again with `restart()`, reloads; what the page shows. */
async function loginKillReload(t, app, restart) {
  const page = await openBrowser(t);
  await page.goto(`${app.base}/`);
  assert.equal(await shown(page), null, 'the login form');
  await page.clickAndWait(`document.querySelector('#name').value = 'Ada'; document.querySelector('form button').click()`);
  assert.deepEqual(await shown(page), { user: 'Ada', views: 1 }, 'logged in (the redirect to / counted one view)');
  await sleep(1500);
  await app.kill9();
  const again = await restart();
  await page.goto(`${again.base}/`);
  return shown(page);
}

test('Chromium: logged in to the example app, kill -9 1.5 s later, restart: still logged in (journal everysec, the default)', { timeout: 90_000 }, async (t) => {
  if (!canUseChromium(t)) return;
  const env = { PORT: '0', SESSION_SECRET: 'browser test secret', SESSION_FILE: join(tempDir(t), 'sessions.db') };
  const app = await startApp(t, [EXAMPLE], env);
  assert.deepEqual(await loginKillReload(t, app, () => startApp(t, [EXAMPLE], env)), { user: 'Ada', views: 2 });
});

test('control: the same steps with journal: false (snapshots only) lose the login', { timeout: 90_000 }, async (t) => {
  if (!canUseChromium(t)) return;
  const args = [CONTROL, join(tempDir(t), 'sessions.db'), 'false'];
  const app = await startApp(t, args);
  assert.equal(await loginKillReload(t, app, () => startApp(t, args)), null);
});
