// I/O faults while saving (issue 5, item 3), beyond test/persist-io-errors.test.mjs: a real ENOSPC on a
// small tmpfs (blocks, then inodes) where mount is permitted; EIO from fsync, from close and from the
// directory fsync, renames failing with EXDEV/EACCES/EPERM/EBUSY, short and stuck writes (injected through
// the store's `fs` seam); the directory removed, replaced by a file (ENOTDIR) and the file replaced by a
// directory (EISDIR) while the store runs.
//
// Each fault goes through the same cycle (faultCycle): the error reaches flush() and, for the periodic
// save, the 'error' event, with its code; every session is still served (ids and all() unchanged); the old
// file is byte-identical where the fault allows it; no temp file is left; once the fault clears the
// periodic save succeeds and the file holds every session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync, writeSync,
  openSync, closeSync, statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import {
  call, decodeSnapshot, faultyFs, fileState, fsError, nextEvent, session, startChild, tempDir, tempFiles, track,
} from './fixtures/persist/helpers.mjs';
import { contents } from './fixtures/faults/lib.mjs';
import { mountTmpfs } from './fixtures/tmpfs.mjs';

const idsInFile = (file) => decodeSnapshot(readFileSync(file)).records.map((r) => r.id);
/** Temp files next to `file`; none when its directory is gone or is not a directory (ENOTDIR case). */
const leftovers = (file) => (statSync(dirname(file), { throwIfNoEntry: false })?.isDirectory() ? tempFiles(file) : []);
const PERIOD = 15;

/**
 * The fault cycle. `inject()` starts the fault, `clear()` ends it. The store saves every PERIOD ms; the
 * timer is stopped while the test looks at the files, so no save is in flight then.
 * `oldFile`: 'kept' (byte-identical), or 'gone' (the fault itself removed or replaced it).
 * `renames`: how many renames the failing flush() may attempt (through the seam `fs`): 'none' (the fault
 * struck before: a failed write, fsync or close must never be renamed into place), 'one' (the rename itself
 * fails: tried once, off Windows), 'any'.
 */
async function faultCycle(t, {
  file, store, fs, inject, clear, code, oldFile = 'kept', sessionBytes = 200, seed = 3, renames = 'none',
}) {
  store.stopSaveInterval();
  for (let i = 0; i < seed; i++) await call(store, 'set', `seed-${i}`, session({ user: `seed-${i}`, pad: 'p'.repeat(sessionBytes) }));
  await store.flush();
  const good = fileState(file);
  const errors = [];
  store.on('error', (err) => errors.push(err));

  await inject();
  await call(store, 'set', 'during-1', session({ user: 'during-1', pad: 'd'.repeat(sessionBytes) }));
  const renamesBefore = fs?.events.filter(([what]) => what === 'rename').length;
  const expected = await contents(store);
  const err = await store.flush().then(() => assert.fail('flush() resolved during the fault'), (e) => e);
  assert.equal(err.code, code, `flush(): ${err.stack}`);
  assert.ok(err.message.includes(file), `the message names the file: ${err.message}`);
  if (fs && renames !== 'any') {
    const attempted = fs.events.filter(([what]) => what === 'rename').length - renamesBefore;
    assert.equal(attempted, renames === 'none' ? 0 : 1, renames === 'none' ? 'a failed write, fsync or close is never renamed into place'
      : 'a failing rename is tried once (retries are for Windows)');
  }

  // The periodic save fails the same way and tells the 'error' listeners.
  await call(store, 'set', 'during-2', session({ user: 'during-2' }));
  const expected2 = await contents(store);
  const event = nextEvent(store, 'error');
  store.startSaveInterval();
  const bgErr = await event;
  store.stopSaveInterval();
  await store.flush().catch(() => undefined); // wait out a save the timer may have started
  assert.equal(bgErr.code, code, `'error' event: ${bgErr.stack}`);
  assert.ok(errors.length >= 1);
  assert.equal(store.stats.persistence.lastSave.outcome, 'error');
  assert.ok(store.stats.persistence.changesSinceSave > 0);

  assert.deepEqual(await contents(store), expected2, 'every session is still served, in the same order');
  assert.deepEqual(expected2.ids.slice(1), expected.ids, 'nothing lost between the two failures');
  if (oldFile === 'kept') assert.deepEqual(fileState(file), good, 'the old file is byte-identical');
  assert.deepEqual(leftovers(file), [], 'no temp file is left');

  // The fault clears: the periodic save succeeds and writes everything.
  await clear();
  const saved = nextEvent(store, 'save');
  store.startSaveInterval();
  await saved;
  store.stopSaveInterval();
  assert.deepEqual(idsInFile(file), [...expected2.ids].reverse(), 'the file holds every session after recovery');
  assert.equal(store.stats.persistence.lastSave.outcome, 'ok');
  assert.equal(store.stats.persistence.changesSinceSave, 0);
  assert.deepEqual(leftovers(file), []);
  await call(store, 'set', 'after', session({ user: 'after' }));
  await store.flush();
  assert.equal(idsInFile(file).at(-1), 'after');
  return { err, bgErr };
}

/** A store on a fresh file with the fault-injecting fs seam (or a custom one). */
async function openStore(t, fs = faultyFs(), dir = tempDir(t), options = {}) {
  const file = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: PERIOD, fs, ...options }));
  await store.ready;
  return { dir, file, fs, store };
}

test('real ENOSPC: a full 512 KiB tmpfs', { timeout: 30_000 }, async (t) => {
  const fsMount = mountTmpfs(t, 'size=512k', '; ENOSPC is covered by the injected faults');
  if (!fsMount) return;
  const file = join(fsMount.mnt, 'sessions.db');
  const store = new MemFileStore({ saveFile: file, savePeriod: PERIOD });
  fsMount.keep(store);
  await store.ready;
  const ballast = join(fsMount.mnt, 'ballast');
  await faultCycle(t, {
    file, store, code: 'ENOSPC', seed: 40, sessionBytes: 2000,
    inject() {
      // Fill what is left, 4 KiB at a time, until the kernel says ENOSPC.
      const fd = openSync(ballast, 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(4096, 1));
      } catch (err) {
        assert.equal(err.code, 'ENOSPC');
      } finally {
        closeSync(fd);
      }
      assert.ok(statfsSync(fsMount.mnt).bavail === 0, 'the file system is full');
    },
    clear() {
      unlinkSync(ballast);
    },
  });
  // The journal the last snapshot names is the only one left: the earlier ones were absorbed and removed.
  const journal = `sessions.db.journal.${store.stats.persistence.journal.generation}`;
  assert.deepEqual(readdirSync(fsMount.mnt).sort(), ['sessions.db', journal, 'sessions.db.lock']);
});

test('real ENOSPC when creating the temp file: a tmpfs out of inodes', { timeout: 30_000 }, async (t) => {
  const fsMount = mountTmpfs(t, 'size=1m,nr_inodes=8', '; ENOSPC is covered by the injected faults');
  if (!fsMount) return;
  const file = join(fsMount.mnt, 'sessions.db');
  const store = new MemFileStore({ saveFile: file, savePeriod: PERIOD });
  fsMount.keep(store);
  await store.ready;
  const ballast = [];
  await faultCycle(t, {
    file, store, code: 'ENOSPC',
    inject() {
      for (let i = 0; ; i++) {
        try {
          writeFileSync(join(fsMount.mnt, `ballast-${i}`), '');
          ballast.push(join(fsMount.mnt, `ballast-${i}`));
        } catch (err) {
          assert.equal(err.code, 'ENOSPC');
          break;
        }
      }
      assert.equal(statfsSync(fsMount.mnt).ffree, 0, 'no inode left');
    },
    clear() {
      // A snapshot needs two inodes: the next journal and the temp file.
      unlinkSync(ballast.pop());
      unlinkSync(ballast.pop());
    },
  });
});

test('EIO from fsync of the temp file: never renamed into place; the retry writes a new temp file', async (t) => {
  const ctx = await openStore(t);
  await faultCycle(t, {
    ...ctx, code: 'EIO',
    inject() {
      ctx.fs.faults.sync = 'EIO';
    },
    clear() {
      ctx.fs.faults.sync = null;
    },
  });
  // After a failed fsync the data of that file cannot be trusted (fsyncgate): every attempt used its own file.
  const opened = ctx.fs.events.filter(([what]) => what === 'open').map(([, path]) => path);
  assert.equal(new Set(opened).size, opened.length, 'a fresh temp file for every save');
});

for (const code of ['EXDEV', 'EACCES', 'EPERM', 'EBUSY']) {
  test(`rename failing with ${code}: tried once (not Windows), temp removed, old file kept, recovers`, async (t) => {
    const ctx = await openStore(t);
    await faultCycle(t, {
      ...ctx, code, renames: 'one',
      inject() {
        ctx.fs.faults.rename = code;
      },
      clear() {
        ctx.fs.faults.rename = null;
      },
    });
  });
}

test('EIO from close() of the temp file (as NFS reports late write errors): temp removed, old file kept', async (t) => {
  const seam = faultyFs();
  let closeFault = null;
  const open = seam.open;
  seam.open = async (path, flags, mode) => {
    const handle = await open(path, flags, mode);
    if (!String(path).includes('.tmp-')) return handle;
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'close') {
          return async () => {
            await target.close();
            if (closeFault) throw fsError(closeFault, 'close', path);
          };
        }
        return Reflect.get(target, prop, target);
      },
    });
  };
  const ctx = await openStore(t, seam);
  await faultCycle(t, {
    ...ctx, code: 'EIO',
    inject() {
      closeFault = 'EIO';
    },
    clear() {
      closeFault = null;
    },
  });
});

test('EIO from the directory fsync after the rename: reported; the file is a whole snapshot; the next save writes again', async (t) => {
  const seam = faultyFs();
  let dirFault = null;
  const open = seam.open;
  const dirs = [];
  seam.open = async (path, flags, mode) => {
    const handle = await open(path, flags, mode);
    if (String(path).includes('.tmp-')) return handle;
    dirs.push(String(path));
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'sync') {
          return async () => {
            if (dirFault) throw fsError(dirFault, 'fsync', path);
            return target.sync();
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  // Snapshots only: with the journal on, the directory is also synced when the next journal is created (before
  // the snapshot is written), which test/journal-faults.test.mjs covers.
  const ctx = await openStore(t, seam, undefined, { journal: false });
  let snapshots;
  await faultCycle(t, {
    ...ctx, code: 'EIO', oldFile: 'gone', renames: 'one',
    inject() {
      dirFault = 'EIO';
    },
    clear() {
      // The rename happened before the directory fsync failed: the file is the newer snapshot, whole.
      snapshots = idsInFile(ctx.file);
      dirFault = null;
    },
  });
  assert.ok(dirs.length > 0 && dirs.every((d) => d === ctx.dir), `the directory was opened for fsync: ${dirs}`);
  assert.ok(snapshots.includes('during-2'), 'the file decodes: a whole snapshot');
});

test('short writes (at most half of each chunk per call) still give a complete, identical snapshot', async (t) => {
  const seam = faultyFs();
  const open = seam.open;
  let calls = 0;
  seam.open = async (path, flags, mode) => {
    const handle = await open(path, flags, mode);
    if (!String(path).includes('.tmp-')) return handle;
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'write') {
          return (buffer, offset, length) => {
            calls++;
            return target.write(buffer, offset, Math.max(1, Math.ceil(length / 2)));
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  const { file, store } = await openStore(t, seam);
  for (let i = 0; i < 1500; i++) await call(store, 'set', `s${i}`, session({ user: `u${i}`, note: 'ü'.repeat(i % 50) }));
  await store.flush();
  assert.ok(calls > 10, `many partial writes (${calls})`);
  const records = decodeSnapshot(readFileSync(file)).records;
  assert.equal(records.length, 1500);
  assert.deepEqual(records.map((r) => r.id), (await contents(store)).ids.reverse());
  assert.ok(records.every((r) => r.value === store.store.get(r.id)), 'every value written whole');
});

test('a write that makes no progress fails the save (no endless loop), temp removed, recovers', { timeout: 15_000 }, async (t) => {
  const seam = faultyFs();
  const open = seam.open;
  let stuck = false;
  seam.open = async (path, flags, mode) => {
    const handle = await open(path, flags, mode);
    if (!String(path).includes('.tmp-')) return handle;
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'write') {
          return (buffer, ...rest) => (stuck ? Promise.resolve({ bytesWritten: 0, buffer }) : target.write(buffer, ...rest));
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  const ctx = await openStore(t, seam);
  ctx.store.stopSaveInterval();
  await call(ctx.store, 'set', 'a', session({ user: 'a' }));
  await ctx.store.flush();
  const good = fileState(ctx.file);
  stuck = true;
  await call(ctx.store, 'set', 'b', session({ user: 'b' }));
  await assert.rejects(ctx.store.flush(), /no progress/);
  assert.deepEqual(fileState(ctx.file), good);
  assert.deepEqual(tempFiles(ctx.file), []);
  stuck = false;
  await ctx.store.flush();
  assert.deepEqual(idsInFile(ctx.file), ['a', 'b']);
});

test('the directory removed while running, then re-created: ENOENT to flush() and "error", then the periodic save recovers', async (t) => {
  const ctx = await openStore(t);
  await faultCycle(t, {
    ...ctx, code: 'ENOENT', oldFile: 'gone',
    inject() {
      rmSync(ctx.dir, { recursive: true });
    },
    clear() {
      mkdirSync(ctx.dir);
    },
  });
});

test('the directory removed and re-created while running: the store still owns the file (another process is refused)', async (t) => {
  const ctx = await openStore(t);
  await call(ctx.store, 'set', 'a', session({ user: 'a' }));
  await ctx.store.flush();
  rmSync(ctx.dir, { recursive: true });
  mkdirSync(ctx.dir);
  await call(ctx.store, 'set', 'b', session({ user: 'b' }));
  await ctx.store.flush(); // the store saves into the re-created directory, as it should
  assert.deepEqual(idsInFile(ctx.file), ['a', 'b']);
  const lockBack = existsSync(`${ctx.file}.lock`);
  // A second process must not take the file over while this store still writes it: both would save
  // their own sessions over each other's.
  const child = startChild(t, 'hold', [ctx.file]);
  const [line] = await child.line(/^(ready \d+|refused \S+)$/);
  assert.equal(line, 'refused ERR_SNAPSHOT_LOCKED',
    `another process took the file over: the lock file vanished with the directory (re-created by the owner: ${lockBack})`);
});

test('the directory replaced by a file while running: ENOTDIR, sessions kept, recovers when it is a directory again', async (t) => {
  const ctx = await openStore(t);
  await faultCycle(t, {
    ...ctx, code: 'ENOTDIR', oldFile: 'gone',
    inject() {
      rmSync(ctx.dir, { recursive: true });
      writeFileSync(ctx.dir, 'a plain file where the directory was');
    },
    clear() {
      assert.equal(readFileSync(ctx.dir, 'utf8'), 'a plain file where the directory was', 'not touched');
      unlinkSync(ctx.dir);
      mkdirSync(ctx.dir);
    },
  });
});

test('the snapshot file replaced by a directory while running: EISDIR, the directory untouched, recovers once removed', async (t) => {
  const ctx = await openStore(t);
  await faultCycle(t, {
    ...ctx, code: 'EISDIR', oldFile: 'gone', renames: 'one',
    inject() {
      unlinkSync(ctx.file);
      mkdirSync(ctx.file);
      writeFileSync(join(ctx.file, 'inside'), 'someone else\'s data');
    },
    clear() {
      assert.equal(readFileSync(join(ctx.file, 'inside'), 'utf8'), 'someone else\'s data', 'not touched');
      rmSync(ctx.file, { recursive: true });
    },
  });
});
