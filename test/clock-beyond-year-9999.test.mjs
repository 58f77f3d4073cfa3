// The `clock` option moves time for tests, and a test that checks sessions which never expire may move it far: past
// the year 9999, Date's toISOString() writes the year with six digits and a sign (+010000-01-01T00:00:00.000Z),
// which the snapshot's header took for damage. The store wrote a snapshot it then refused at the next start
// (ERR_SNAPSHOT_DAMAGED, "the header is malformed"), and `verify` refused it as well.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';

for (const [when, now] of [['the year 10000', Date.UTC(10000, 0, 1)], ['the last instant a Date can hold', 8.64e15]]) {
  test(`a store whose clock reads ${when} loads the snapshot it wrote`, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const first = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, clock: () => now }));
    await first.ready;
    await call(first, 'set', 'month', session({ user: 'a' }, 30 * 86_400_000));
    await call(first, 'set', 'hour', session({ user: 'b' }, 3_600_000));
    await first.flush(); // a snapshot naming its journal
    await call(first, 'set', 'later', session({ user: 'c' }, 3_600_000));
    await first.close(); // and one that stands alone
    const second = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, clock: () => now }));
    await second.ready;
    assert.deepEqual((await call(second, 'ids')).sort(), ['hour', 'later', 'month']);
    assert.equal(second.stats.persistence.load.writtenAt, new Date(now).toISOString());
  });
}
