// `import` of a JSON Lines export holding one very large session (a file upload kept in the session): its line is
// read in the stream's 64 KiB chunks, and joining them must cost about what reading the same bytes as many short
// lines costs. Joined by prepending what was read so far to each chunk and splitting the whole again, one line of
// 40 MB took 14.5 s to import (its export: 1.2 s), 20 MB 3 s: the square of the line's length.
//
// Not a timing test in the usual sense: the same bytes are imported twice by the real bin, as one line and as 48
// lines, and only a ratio of 4 fails it (plus half a second for the starts of node). Linear reading measures about 1x;
// the quadratic join measured 7x for 24 MB and grows with the length of the line (48 MB here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, readStore, tempDir } from './fixtures/cli/helpers.mjs';

const PARTS = 48;
const PART_BYTES = 1_000_000;
const RATIO = 4;

function line(sid, blob) {
  return `${JSON.stringify({ sid, expires: null, session: { cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' }, blob } })}\n`;
}

async function timedImport(source, into) {
  const started = performance.now();
  const result = await cli(['import', source, '--into', into], { timeout: 120_000 });
  assert.equal(result.code, 0, result.stderr);
  return performance.now() - started;
}

test(`import of one ${PARTS} MB session line costs about what ${PARTS} lines of 1 MB cost`, { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t);
  const long = join(dir, 'long.jsonl');
  const short = join(dir, 'short.jsonl');
  writeFileSync(long, line('big', 'x'.repeat(PARTS * PART_BYTES)));
  writeFileSync(short, Array.from({ length: PARTS }, (_, i) => line(`part-${i}`, 'x'.repeat(PART_BYTES))).join(''));
  const shortMs = await timedImport(short, join(dir, 'short.snap'));
  const longMs = await timedImport(long, join(dir, 'long.snap'));
  const imported = await readStore(join(dir, 'long.snap'));
  assert.equal(imported.big?.blob.length, PARTS * PART_BYTES);
  assert.ok(longMs < RATIO * shortMs + 500,
    `one ${PARTS} MB line took ${longMs.toFixed(0)} ms to import, ${PARTS} lines of 1 MB ${shortMs.toFixed(0)} ms: not linear in the line's length`);
});

test('lines split across the stream\'s chunks come out whole: CRLF endings, a last line without a newline, blank lines', async (t) => {
  const dir = tempDir(t);
  const source = join(dir, 'mixed.jsonl');
  // 100 KB values: each line spans two or three of the stream's 64 KiB chunks, and ends inside one.
  const text = [line('a', 'é'.repeat(50_000)).replace('\n', '\r\n'), '\n', '\r\n', line('b', 'y'.repeat(100_000)),
    line('c', 'z').trimEnd()].join('');
  writeFileSync(source, text);
  const result = await cli(['import', source, '--into', join(dir, 'out.snap')]);
  assert.equal(result.code, 0, result.stderr);
  const imported = await readStore(join(dir, 'out.snap'));
  assert.deepEqual(Object.keys(imported).sort(), ['a', 'b', 'c']);
  assert.equal(imported.a.blob, 'é'.repeat(50_000));
  assert.equal(imported.b.blob, 'y'.repeat(100_000));
  assert.equal(imported.c.blob, 'z');
});
