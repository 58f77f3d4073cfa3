// A saveFile that is itself a mount point: one file mounted into place, as `docker run -v ./sessions.json:/app/sessions.json`
// or a Kubernetes subPath mount does. 1.x wrote that file in place and worked; 2.x replaces it by renaming a temp file
// over it, which Linux refuses on a mount point (EBUSY), and its journal and lock would be beside it, outside the
// mount, lost with the container. Every save failed, once per savePeriod, while the journals piled up beside a
// snapshot never written, and close() rejected: the start must refuse it, say so and say what to do, and create nothing.
// Real bind mounts (root): a file from a tmpfs (another device than its directory's) and one from the same file system.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { skipUnlessCi } from './fixtures/must-run.mjs';

const LEGACY = '{"old":{"cookie":{"originalMaxAge":3600000,"expires":"2999-01-01T00:00:00.000Z"},"user":"ann"}}';

/**
 * A place for the test's files: `dir()` makes a directory, `mount(args, at)` runs mount (false, the test skipped, when
 * it is not permitted), `keep(store)` closes the store at the end; then everything is unmounted, last first, and removed.
 */
function place(t) {
  const base = mkdtempSync(join(tmpdir(), 'memfilestore-placement-'));
  const mounts = [];
  const stores = [];
  let n = 0;
  t.after(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    for (const at of mounts.reverse()) spawnSync('umount', [at]);
    rmSync(base, { recursive: true, force: true });
  });
  return {
    dir: () => mkdtempSync(join(base, `${n++}-`)),
    mount(args, at) {
      const result = spawnSync('mount', [...args, at], { encoding: 'utf8' });
      if (result.status !== 0) {
        skipUnlessCi(t, `mount ${args.join(' ')} is not permitted here (${(result.stderr || result.error?.message || '').trim()})`);
        return false;
      }
      mounts.push(at);
      return true;
    },
    keep: (store) => { stores.push(store); return store; },
  };
}

for (const source of ['a tmpfs', 'the same file system']) {
  test(`a saveFile bind-mounted from ${source} is refused at start, with what to do, and nothing is created beside it`, async (t) => {
    const p = place(t);
    const app = p.dir();
    const host = p.dir();
    if (source === 'a tmpfs' && !p.mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], host)) return;
    const hostFile = join(host, 'sessions.json');
    writeFileSync(hostFile, LEGACY);
    const file = join(app, 'sessions.json');
    writeFileSync(file, '');
    if (!p.mount(['--bind', hostFile], file)) return;

    const store = p.keep(new MemFileStore({ saveFile: file, savePeriod: 50 }));
    const errors = [];
    store.on('error', (err) => errors.push(err));
    const err = await store.ready.then(() => assert.fail('ready resolved'), (e) => e);
    assert.equal(err.code, 'EBUSY', err.stack);
    assert.ok(err.message.includes(`"${file}"`), `names the file: ${err.message}`);
    assert.match(err.message, /mount point/, err.message);
    assert.match(err.message, /mount the directory that holds/i, `says what to do: ${err.message}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(errors, [], 'no save was tried');
    assert.deepEqual(readdirSync(app), ['sessions.json'], 'no lock, journal or temp file beside it');
    assert.equal(readFileSync(file, 'utf8'), LEGACY, 'the file is left untouched');
    await store.close();
  });
}

test('a saveFile in a bind-mounted directory is used as usual', async (t) => {
  const p = place(t);
  const app = p.dir();
  const host = p.dir();
  writeFileSync(join(host, 'sessions.json'), LEGACY);
  if (!p.mount(['--bind', host], app)) return;
  const file = join(app, 'sessions.json');
  const store = p.keep(new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  assert.equal(store.store.size, 1, 'the 1.x session is loaded');
  await store.close();
  assert.match(readFileSync(join(host, 'sessions.json'), 'latin1'), /^express-memfilestore-snapshot /, 'the snapshot is written in the mounted directory');
});

test('a saveFile on an overlay whose layers are on other file systems than it is not taken for a mount point', async (t) => {
  // Without xino, such an overlay gives a regular file the device of the layer it is on, not the overlay's (a live
  // system's squashfs and tmpfs, say): a device that differs from the directory's is no proof of a mount.
  const p = place(t);
  const lower = p.dir();
  const upper = p.dir();
  const merged = p.dir();
  if (!p.mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], lower) || !p.mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], upper)) return;
  writeFileSync(join(lower, 'sessions.json'), LEGACY);
  mkdirSync(join(upper, 'data'));
  mkdirSync(join(upper, 'work'));
  if (!p.mount(['-t', 'overlay', '-o', `lowerdir=${lower},upperdir=${join(upper, 'data')},workdir=${join(upper, 'work')}`, 'overlay'], merged)) return;
  const file = join(merged, 'sessions.json');
  const store = p.keep(new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  assert.equal(store.store.size, 1, 'the 1.x session is loaded');
  await store.close();
  assert.match(readFileSync(file, 'latin1'), /^express-memfilestore-snapshot /);
});
