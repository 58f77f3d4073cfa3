// A 1.x file (it starts with "{") stretched to a gigabyte of zeros (`truncate -s`: a sparse file, no disk used, as anyone
// with write access to the directory or a restored backup can leave): the start allocated and read the whole file
// before JSON.parse refused it, so it took a gigabyte of memory and seconds, and where memory is limited the start
// failed with "Array buffer allocation failed", an error onDamagedFile does not handle. A zero byte is never in JSON:
// the file is refused at the first one, as damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/persist/helpers.mjs';
import { runNode } from './fixtures/faults/lib.mjs';

const START_STORE = fileURLToPath(new URL('./fixtures/start-store.mjs', import.meta.url));

/**
 * Starts a store on `file` in a child, which also prints its peak resident memory (maxRSS, KiB): the bound is checked
 * there rather than with `ulimit -v`, under which Node 24 cannot even reserve its code space.
 */
const startLimited = (file) => runNode([START_STORE, file], { timeout: 60_000 });

test('a 1.x file stretched to 1.2 GB of zeros is refused as damaged, in bounded memory', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  writeFileSync(file, '{"a":{"cookie":{}}', { mode: 0o600 });
  truncateSync(file, 1200 * 2 ** 20);
  const { code, stdout, stderr } = await startLimited(file);
  assert.equal(code, 0, stderr);
  const [result, { maxRssKb }] = stdout.trim().split('\n').slice(-2).map((line) => JSON.parse(line));
  assert.ok(maxRssKb < 400 * 1024, `peak memory ${Math.round(maxRssKb / 1024)} MiB to refuse a file of 18 bytes and zeros`);
  assert.equal(result.code, 'ERR_SNAPSHOT_DAMAGED', result.message);
  assert.match(result.message, /1\.x file but is not valid JSON \(at byte 18\)/);
});
