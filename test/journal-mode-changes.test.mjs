// The journal option changed between restarts, each start after a crash (the files of a running store copied, as
// kill -9 leaves them): a journal left by one mode is replayed by the next whatever its own mode, `false` included,
// and kept until a snapshot holds it, so no change the first store acknowledged is lost; what the second store does
// is kept as its own mode promises (README, "What a crash loses").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, journals, open } from './fixtures/journal/helpers.mjs';

const MODES = ['always', 'everysec', false];

/** A store in `mode` with `a` and `b` in its snapshot, then `b` destroyed and `c` set: crashed before its next one. */
async function crashedIn(t, mode) {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file, { journal: mode });
  await call(store, 'set', 'a', session({ user: 'a' }));
  await call(store, 'set', 'b', session({ user: 'b' }));
  await store.flush();
  await call(store, 'destroy', 'b');
  await call(store, 'set', 'c', session({ user: 'c' }));
  return crashCopy(t, file);
}

/** What the first store's crash keeps: its snapshot, plus what it journaled. */
const kept = (mode) => (mode === false ? ['a', 'b'] : ['a', 'c']);

for (const first of MODES) {
  for (const second of MODES.filter((m) => m !== first)) {
    test(`journal ${first} crashed, then ${second} crashed, then ${first}: every change each mode promises is there`, async (t) => {
      const crashed = await crashedIn(t, first);
      const b = await open(t, crashed, { journal: second });
      assert.deepEqual((await call(b, 'ids')).sort(), kept(first), `${second} replays what ${first} left`);
      await call(b, 'set', 'd', session({ user: 'd' }));
      const again = crashCopy(t, crashed);
      if (first !== false && second === false) assert.equal(journals(again).length, 1, `the ${first} journal is kept`);

      const c = await open(t, again, { journal: first });
      const expected = [...kept(first), ...(second === false ? [] : ['d'])].sort();
      assert.deepEqual((await call(c, 'ids')).sort(), expected);
      for (const id of expected) assert.equal((await call(c, 'get', id)).user, id);
    });
  }
}

for (const first of ['always', 'everysec']) {
  test(`journal ${first} crashed, then false closed: its snapshot holds the journal, which is removed`, async (t) => {
    const crashed = await crashedIn(t, first);
    const b = await open(t, crashed, { journal: false });
    await b.close();
    assert.deepEqual(journals(crashed), []);
    const c = await open(t, crashed, { journal: first });
    assert.deepEqual((await call(c, 'ids')).sort(), ['a', 'c']);
  });
}
