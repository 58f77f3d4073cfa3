// The chunked reader under the snapshot and journal loaders (dist/files/read-chunks.js), called directly on real
// files: what its contract promises the parsers (each call gets the unconsumed rest then the next bytes, exactly
// one last call with `eof`, at most 1 MiB read at a time so a large file never needs a buffer its size, a file
// shorter than the size given ends the read instead of looping) and the count of bytes it returns.
// Found by mutation testing (npm run mutate -- src/files/read-chunks.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tempDir } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { readChunks } = require('../dist/files/read-chunks.js');

const MIB = 1 << 20;

/** Runs readChunks on a file holding `bytes`; `consume` decides how much of each call it takes. */
function read(t, bytes, { start = 0, size = bytes.length, consume = (chunk) => chunk.length } = {}) {
  const file = join(tempDir(t), 'data');
  writeFileSync(file, bytes);
  const calls = [];
  const seen = [];
  const fd = openSync(file, 'r');
  try {
    const total = readChunks(fd, start, size, (chunk, eof) => {
      if (calls.length > 100) throw new Error('readChunks keeps calling: it never reached the end');
      calls.push({ length: chunk.length, eof });
      const used = consume(chunk, eof);
      seen.push(Buffer.from(chunk.subarray(0, eof ? chunk.length : used)));
      return used;
    });
    return { total, calls, seen: Buffer.concat(seen) };
  } finally {
    closeSync(fd);
  }
}

test('a small file is handed over whole, in one last call', (t) => {
  const bytes = Buffer.from('0123456789');
  // A parser that waits for the end (it consumes nothing before it) still gets the file in one call.
  const { total, calls, seen } = read(t, bytes, { consume: () => 0 });
  assert.deepEqual(calls, [{ length: 10, eof: true }]);
  assert.equal(total, 10);
  assert.deepEqual(seen, bytes);
  // A parser that consumes everything: the same single call.
  assert.deepEqual(read(t, bytes).calls, [{ length: 10, eof: true }]);
});

test('an empty file, or nothing after `start`, still gets its one last call', (t) => {
  assert.deepEqual(read(t, Buffer.alloc(0)).calls, [{ length: 0, eof: true }]);
  const { calls, total } = read(t, Buffer.from('header\n'), { start: 7 });
  assert.deepEqual(calls, [{ length: 0, eof: true }]);
  assert.equal(total, 0);
});

test('a large file is read 1 MiB at a time, the unconsumed rest carried into the next call', (t) => {
  const bytes = Buffer.alloc(2 * MIB + MIB / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
  const whole = read(t, bytes);
  assert.deepEqual(whole.calls, [{ length: MIB, eof: false }, { length: MIB, eof: false }, { length: MIB / 2, eof: true }]);
  assert.equal(whole.total, bytes.length);
  assert.ok(whole.seen.equals(bytes));
  // A parser that leaves 100 bytes each time gets them again first, then what follows.
  const rest = read(t, bytes, { consume: (chunk, eof) => (eof ? chunk.length : chunk.length - 100) });
  assert.equal(rest.calls[0].length, MIB);
  assert.equal(rest.calls.at(-1).eof, true);
  assert.equal(rest.calls.filter((c) => c.eof).length, 1);
  assert.ok(rest.seen.equals(bytes));
});

test('reading from `start` returns the bytes read after it', (t) => {
  const bytes = Buffer.from('header\nbody of the file\n');
  const { total, calls, seen } = read(t, bytes, { start: 7 });
  assert.equal(total, bytes.length - 7);
  assert.deepEqual(calls, [{ length: bytes.length - 7, eof: true }]);
  assert.equal(seen.toString(), 'body of the file\n');
});

test('a file shorter than the size given (it shrank while read) ends at what is there, with eof', (t) => {
  const bytes = Buffer.from('what is left of the file');
  const { total, calls, seen } = read(t, bytes, { size: bytes.length + 1000 });
  assert.equal(calls.at(-1).eof, true);
  assert.equal(calls.filter((c) => c.eof).length, 1);
  assert.equal(total, bytes.length);
  assert.deepEqual(seen, bytes);
});
