// A stored session that is not valid JSON, with the default JSON serializer (here: a snapshot record edited by hand):
// get() and all() call back with the store's own SyntaxError, which names the position only. V8's JSON.parse error
// quotes the text around the fault, session contents that express-session passes to next(err) and so to logs.
// src/json/session-codec.ts parseError; found by mutation testing (npm run mutate -- src/json/session-codec.ts:62-63).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { encodeSnapshot, HOUR, tempDir, track } from './fixtures/persist/helpers.mjs';
import { settle } from './fixtures/store-calls.mjs';

const NOW = Date.UTC(2030, 0, 1);

for (const method of ['get', 'all']) {
  test(`${method}() of a stored session that is not JSON: a SyntaxError naming the position, not the contents`, async (t) => {
    const saveFile = join(tempDir(t), 'sessions.db');
    writeFileSync(saveFile, encodeSnapshot([{ id: 'a', expires: NOW + HOUR, value: '{"cookie":{},"token":hunter2}' }]));
    const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, journal: false, clock: () => NOW }));
    await store.ready;
    const { err } = await settle(store, method, ...(method === 'get' ? ['a'] : []));
    assert.ok(err instanceof SyntaxError, `a SyntaxError, got ${String(err)}`);
    assert.match(err.message, /^express-memfilestore: a stored session is not valid JSON(?: \(at position \d+\))?$/);
    assert.doesNotMatch(err.message, /hunter2/);
  });
}
