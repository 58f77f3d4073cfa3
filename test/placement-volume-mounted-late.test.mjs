// The app started before its volume was mounted (a systemd unit without RequiresMountsFor=, a network file system
// mounted late): the store starts on the empty directory beneath, then the volume appears over it, holding the
// snapshot and journals of the previous run. The store's next save found no lock there, put its own back, replaced
// that snapshot with the sessions made since the start and removed the journals: every session saved before was lost,
// without a word. The save must be refused, loudly, and the volume's files left as they are; a directory removed and
// re-created empty (faults-io.test.mjs) still takes the saves. Real mounts (root): the volume is bind-mounted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session } from './fixtures/persist/helpers.mjs';
import { skipUnlessCi } from './fixtures/must-run.mjs';

test('a volume mounted over the saveFile\'s directory after the start: its snapshot and journals are not replaced', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'memfilestore-late-volume-'));
  const volume = join(base, 'volume');
  const app = join(base, 'app');
  mkdirSync(volume);
  mkdirSync(app);
  const stores = [];
  let mounted = false;
  t.after(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    if (mounted) spawnSync('umount', [app]);
    rmSync(base, { recursive: true, force: true });
  });

  // The previous run, on the volume: killed after its changes were journaled (no close: a snapshot and a journal).
  const previous = new MemFileStore({ saveFile: join(volume, 'sessions.db'), savePeriod: 0 });
  stores.push(previous);
  await call(previous, 'set', 'saved', session({ user: 'ann' }));
  await previous.flush();
  await call(previous, 'set', 'journaled', session({ user: 'bob' }));
  await new Promise((resolve) => setTimeout(resolve, 1100)); // 'everysec': synced
  const before = Object.fromEntries(readdirSync(volume).filter((n) => !n.endsWith('.lock')).map((n) => [n, readFileSync(join(volume, n))]));
  spawnSync('rm', ['-f', join(volume, 'sessions.db.lock')]); // what a kill leaves is a stale lock; here none at all

  const store = new MemFileStore({ saveFile: join(app, 'sessions.db'), savePeriod: 0 });
  stores.push(store);
  await store.ready;
  await call(store, 'set', 'since-start', session({ user: 'eve' }));
  const result = spawnSync('mount', ['--bind', volume, app], { encoding: 'utf8' });
  if (result.status !== 0) return skipUnlessCi(t, `mount --bind is not permitted here (${(result.stderr || result.error?.message || '').trim()})`);
  mounted = true;

  const err = await store.flush().then(() => undefined, (e) => e);
  const after = Object.fromEntries(readdirSync(volume).filter((n) => !n.endsWith('.lock')).map((n) => [n, readFileSync(join(volume, n))]));
  assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort(), 'the volume\'s files are all there');
  for (const [name, bytes] of Object.entries(before)) assert.ok(after[name].equals(bytes), `${name} is unchanged`);
  assert.ok(err !== undefined, 'the save is refused');
  assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED', err.stack);
  assert.match(err.message, /mounted/, err.message);
  assert.deepEqual(await call(store, 'ids'), ['since-start'], 'the sessions in memory are kept');
});

test('on an overlay whose layers are on other file systems, a lock removed while running is put back after the directory\'s inode left the cache', async (t) => {
  // Such an overlay (no xino) numbers a directory anew when its inode is read again: the directory is the same one,
  // and holds this store's own snapshot, which must not be taken for another run's.
  const base = mkdtempSync(join(tmpdir(), 'memfilestore-late-volume-'));
  const mounts = [];
  const stores = [];
  t.after(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    for (const at of mounts.reverse()) spawnSync('umount', [at]);
    rmSync(base, { recursive: true, force: true });
  });
  const mount = (args, at) => {
    mkdirSync(at, { recursive: true });
    const result = spawnSync('mount', [...args, at], { encoding: 'utf8' });
    if (result.status === 0) mounts.push(at);
    return result.status === 0 ? undefined : (result.stderr || result.error?.message || '').trim();
  };
  const lower = join(base, 'lower');
  const upper = join(base, 'upper');
  const merged = join(base, 'merged');
  const refused = mount(['-t', 'tmpfs', 'tmpfs'], lower) ?? mount(['-t', 'tmpfs', 'tmpfs'], upper);
  if (refused !== undefined) return skipUnlessCi(t, `mount is not permitted here (${refused})`);
  mkdirSync(join(lower, 'data'));
  mkdirSync(join(upper, 'data'));
  mkdirSync(join(upper, 'work'));
  const overlay = mount(['-t', 'overlay', '-o', `lowerdir=${lower},upperdir=${join(upper, 'data')},workdir=${join(upper, 'work')}`, 'overlay'], merged);
  if (overlay !== undefined) return skipUnlessCi(t, `mount -t overlay is not permitted here (${overlay})`);

  const file = join(merged, 'data', 'sessions.db');
  const store = new MemFileStore({ saveFile: file, savePeriod: 0, journal: false });
  stores.push(store);
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'ann' }));
  await store.flush();
  rmSync(`${file}.lock`);
  writeFileSync('/proc/sys/vm/drop_caches', '2'); // dentries and inodes only
  await call(store, 'set', 'b', session({ user: 'bob' }));
  await store.flush();
  assert.deepEqual(readdirSync(join(merged, 'data')).sort(), ['sessions.db', 'sessions.db.lock']);
});
