// Deploys with two releases alive, as an operator plays them: real apps (express + express-session) in child
// processes (fixtures/upgrade/app.mjs) on one saveFile in a temp dir, users as cookie-keeping HTTP clients.
// express-memfilestore 1.7.1 and memorystore 1.6.8 are those installed for the benchmarks (bench/node_modules; .ci/run
// installs them): without them these tests skip, except under CI=true, where they must run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/persist/helpers.mjs';
import { browser, startApp as startRelease } from './fixtures/upgrade/client.mjs';

const BENCH = process.env.BENCH_MODULES ?? fileURLToPath(new URL('../bench/node_modules/', import.meta.url));
const missing = ['express-memfilestore-1', 'memorystore', 'express', 'express-session'].filter((name) => !existsSync(join(BENCH, name, 'package.json')));
if (missing.length > 0 && process.env.CI === 'true') throw new Error(`needs ${missing.join(', ')} in ${BENCH}: .ci/run installs them`);
const OLD = missing.length === 0 ? { timeout: 60_000 }
  : { skip: `needs ${missing.join(', ')} in ${BENCH} (cd bench && npm install; BENCH_MODULES overrides the path)` };

/** One release of the app on `file`: "2", "1" (1.7.1) or "memorystore". */
const startApp = (t, release, file, savePeriod = 60_000) => startRelease(t, [release, file, String(savePeriod)], { BENCH_MODULES: BENCH });

/**
 * Waits until 1.x's periodic save has written a file holding each user of `views` with that many views (the state
 * after the user's last request, not just the user). Polled, never a fixed sleep: on a busy machine 1.x's 100 ms timer
 * ran late, and a test that slept 250 ms "for a save after her last view" stopped 1.x before it (views 2 for 3).
 * The deadline only bounds a hang.
 */
async function savedBy1x(file, views) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const saved = new Map(Object.values(JSON.parse(readFileSync(file, 'utf8'))).map((s) => [s.user, s.views]));
      if (Object.entries(views).every(([user, n]) => saved.get(user) === n)) return;
    } catch {
      // not written yet, or not a 1.x file (yet)
    }
    if (Date.now() > deadline) throw new Error(`1.x never saved ${JSON.stringify(views)} to ${file}`);
    await sleep(25);
  }
}

test('1.x still saving while 2.x runs on its file: the restart of 2.x that follows is refused, naming the 1.x app', OLD, async (t) => {
  const file = join(tempDir(t), 'sessions.json');
  const alice = browser('alice');
  const bob = browser('bob');
  const carol = browser('carol');
  const old = await startApp(t, '1', file, 100);
  await alice.login(old);
  await savedBy1x(file, { alice: 0 });

  // The new release starts beside the old one (blue-green on one host) and takes the traffic; the old one drains.
  // 1.x truncates its file, then writes it: a start that reads it in between is refused, and started again.
  let blue = await startApp(t, '2', file);
  for (let i = 0; i < 3 && /ERR_SNAPSHOT_DAMAGED .*(is empty|not valid JSON)/.test(blue.refusal ?? ''); i++) blue = await startApp(t, '2', file);
  assert.deepEqual(await alice.views(blue), { status: 200, user: 'alice', views: 1, release: '2' }, 'read from the 1.x file');
  await bob.login(blue);
  await carol.login(old); // a request the old release still served
  await savedBy1x(file, { alice: 0, carol: 0 }); // 1.x wrote its file over what 2.x loaded, beside 2.x's journal
  assert.deepEqual(await old.stop(), { code: null, signal: 'SIGTERM' });
  assert.deepEqual(await bob.views(blue), { status: 200, user: 'bob', views: 1, release: '2' });
  assert.equal((await carol.views(blue)).status, 401, 'carol logged in on the old release only: one process, one memory');

  // 2.x is killed before its next snapshot (a crash, an OOM, a kill -9): its changes are in its journal only.
  await blue.stop('SIGKILL');
  assert.ok(readdirSync(join(file, '..')).includes('sessions.json.journal.1'));
  const again = await startApp(t, '2', file);
  assert.equal(again.base, undefined, 'the journal does not continue the file 1.x wrote');
  assert.match(again.refusal, /^refused ERR_SNAPSHOT_DAMAGED /);
  // What happened, and what to do: not just "does not belong to the snapshot beside it".
  assert.match(again.refusal, /express-memfilestore 1\.x/, again.refusal);
  assert.match(again.refusal, /stop/i, again.refusal);
  assert.equal(readFileSync(file, 'utf8')[0], '{', 'left untouched');

  // The message's way out: with 1.x stopped, removing the journal starts from the file 1.x wrote last.
  rmSync(`${file}.journal.1`);
  const after = await startApp(t, '2', file);
  assert.ok(after.base, after.refusal);
  assert.equal((await alice.views(after)).status, 200);
  assert.equal((await carol.views(after)).status, 200, 'carol, whom 1.x saved');
  assert.equal((await bob.views(after)).status, 401, 'bob was in the journal only');
});

test('the README\'s order, 1.x stopped before 2.x starts: users 1.x saved stay logged in, and 2.x restarts (kill -9 too) keep them', OLD, async (t) => {
  const file = join(tempDir(t), 'sessions.json');
  const alice = browser('alice');
  const bob = browser('bob');
  const old = await startApp(t, '1', file, 100);
  await alice.login(old);
  assert.equal((await alice.views(old)).views, 1);
  await savedBy1x(file, { alice: 1 }); // a periodic save after her last view
  await old.stop();

  const blue = await startApp(t, '2', file);
  assert.deepEqual(await alice.views(blue), { status: 200, user: 'alice', views: 2, release: '2' });
  await bob.login(blue);
  await blue.stop('SIGKILL'); // before any snapshot: the 1.x file and 2.x's journal continuing it
  const again = await startApp(t, '2', file);
  assert.ok(again.base, again.refusal);
  assert.deepEqual(await alice.views(again), { status: 200, user: 'alice', views: 3, release: '2' });
  assert.deepEqual(await bob.views(again), { status: 200, user: 'bob', views: 1, release: '2' });
  assert.deepEqual(await again.stop(), { code: null, signal: 'SIGTERM' });
  assert.match(readFileSync(file, 'latin1'), /^express-memfilestore-snapshot 2 /, 'the final snapshot is in the new format');
});

/** The README's "Going back to 1.x" pipeline, run in `dir` with this clone's command line in place of npx. */
function readmeExport(dir) {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = readme.match(/\*\*Going back to 1\.x\*\*[\s\S]*?```sh\n([\s\S]*?)```/)[1];
  const bin = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url));
  const script = block.replace(/^npx express-memfilestore /, `"${process.execPath}" "${bin}" `).replace(/\| node -e /, `| "${process.execPath}" -e `);
  return execFileSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('"Going back to 1.x" as the README says: the app stopped, the pipeline, 1.x on sessions.1x.json: users stay logged in', OLD, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const alice = browser('alice');
  const bob = browser('bob');
  const blue = await startApp(t, '2', file);
  await alice.login(blue);
  await alice.views(blue);
  await bob.login(blue);
  await blue.stop();
  readmeExport(dir);

  const old = await startApp(t, '1', join(dir, 'sessions.1x.json'), 100);
  assert.deepEqual(await alice.views(old), { status: 200, user: 'alice', views: 2, release: '1' });
  assert.deepEqual(await bob.views(old), { status: 200, user: 'bob', views: 1, release: '1' });
  await savedBy1x(join(dir, 'sessions.1x.json'), { alice: 2, bob: 1 }); // saved after their last views
  await old.stop();

  // Upgrading again: 2.x pointed at the file 1.x wrote since (not at the snapshot left from before the rollback).
  const again = await startApp(t, '2', join(dir, 'sessions.1x.json'));
  assert.deepEqual(await alice.views(again), { status: 200, user: 'alice', views: 3, release: '2' });
});

test('going back to 1.x without the pipeline: 1.x does not start on a 2.x snapshot; with a 2.x journal only, it starts without the sessions', OLD, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const alice = browser('alice');
  const blue = await startApp(t, '2', file);
  await alice.login(blue);
  await blue.stop();
  const old = await startApp(t, '1', file, 100);
  assert.equal(old.base, undefined);
  assert.match(old.refusal, /^refused undefined Unexpected token .* is not valid JSON/, 'the SyntaxError the README announces');

  // A 2.x app killed before its first snapshot leaves no snapshot for 1.x to fail on, only the journal (and its lock).
  const crashedDir = tempDir(t);
  const crashed = join(crashedDir, 'sessions.db');
  const green = await startApp(t, '2', crashed);
  await alice.login(green);
  await green.stop('SIGKILL');
  assert.deepEqual(readdirSync(crashedDir).sort(), ['sessions.db.journal.1', 'sessions.db.lock']);
  const rolledBack = await startApp(t, '1', crashed, 100);
  assert.equal((await alice.views(rolledBack)).status, 401, '1.x knows nothing of the journal: alice is logged out');
  await savedBy1x(crashed, {});
  await rolledBack.stop();
  // Upgrading again: the journal does not continue the file 1.x wrote, and the refusal says why.
  const again = await startApp(t, '2', crashed);
  assert.match(again.refusal, /^refused ERR_SNAPSHOT_DAMAGED .*express-memfilestore 1\.x file written since/);
});

test('memorystore to 2.x with a saveFile: memorystore kept nothing on disk, so the switch logs everyone out; from then on restarts keep them', OLD, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const alice = browser('alice');
  const old = await startApp(t, 'memorystore', file);
  await alice.login(old);
  assert.equal((await alice.views(old)).status, 200);
  await old.stop();
  const blue = await startApp(t, '2', file);
  assert.equal((await alice.views(blue)).status, 401, 'her cookie names a session that died with the memorystore process');
  await alice.login(blue);
  await blue.stop();
  const again = await startApp(t, '2', file);
  assert.deepEqual(await alice.views(again), { status: 200, user: 'alice', views: 1, release: '2' });
});
