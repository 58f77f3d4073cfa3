// `verify` on the files a store killed mid-append leaves: the CLI's main() run in this process (the other CLI tests
// run it as a child), so the journal reader's torn-tail report runs where mutation testing sees it. verify reads
// only: it names the torn record and its byte offset, and leaves the journal as it found it for the next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { journalBytes } from './fixtures/journal/helpers.mjs';

const require = createRequire(import.meta.url);
const { main } = require('../dist/cli/main.js');

async function run(args) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => { out += chunk; });
  stderr.on('data', (chunk) => { err += chunk; });
  const code = await main(args, { stdout, stderr, env: {} });
  return { code, out, err };
}

test('verify names a torn last journal record (record number, byte offset, file), inspect counts it, neither cuts anything', async (t) => {
  const dir = tempDir(t);
  const live = join(dir, 'live');
  mkdirSync(live);
  // A store that is never closed: two changes after its snapshot live only in its journal, as after a kill -9.
  const store = track(t, new MemFileStore({ saveFile: join(live, 's.snap'), savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'saved', session({ user: 'saved' }));
  await store.flush();
  await call(store, 'set', 'one', session({ user: 'one' }));
  await call(store, 'set', 'two', session({ user: 'two' }));
  for (const name of readdirSync(live).filter((n) => !n.endsWith('.lock'))) copyFileSync(join(live, name), join(dir, name));
  const [journalName] = readdirSync(dir).filter((n) => /^s\.snap\.journal\.\d+$/.test(n) && statSync(join(dir, n)).size > 0)
    .filter((n) => /\n[0-9a-f]{8} s 2 /.test(readFileSync(join(dir, n), 'latin1')));
  assert.ok(journalName, 'the copy has the journal holding both changes');
  const journal = join(dir, journalName);
  const text = journalBytes(journal).toString('latin1');
  const second = /\n[0-9a-f]{8} s 2 /.exec(text).index + 1;
  // The process died 5 bytes before the end of its second record.
  truncateSync(journal, text.length - 5);
  const torn = text.length - 5 - second;

  const result = await run(['verify', join(dir, 's.snap')]);
  assert.equal(result.code, 0, result.err);
  assert.ok(result.out.includes(`a torn last record of ${torn} bytes (record 2 at byte ${second} of "${journal}"), dropped at the next start`), result.out);
  assert.equal(statSync(journal).size, text.length - 5, 'verify cut nothing');
  // inspect reports the same torn record, in words and under verify's --json key.
  const inspected = await run(['inspect', join(dir, 's.snap')]);
  assert.match(inspected.out, new RegExp(`journal: +1 records in \\d+ files, a torn last record of ${torn} bytes \\(dropped at the next start\\)`));
  assert.equal(JSON.parse((await run(['inspect', '--json', join(dir, 's.snap')])).out).tornBytes, torn);
  assert.equal(statSync(journal).size, text.length - 5, 'inspect cut nothing');

  // The next start drops the torn record, cuts the file back to the record before it, and keeps the first change.
  const next = track(t, new MemFileStore({ saveFile: join(dir, 's.snap'), savePeriod: 0 }));
  await next.ready;
  assert.equal(statSync(journal).size, second, 'the start cut the torn tail');
  assert.deepEqual([...next.store.keys()].sort(), ['one', 'saved']);
});
