// U+2028 and U+2029 (line and paragraph separator) are valid inside JSON strings, and JSON.stringify leaves them raw.
// Node 24's readline ends a line at them, so an export holding one (a session value pasted from a word processor, an
// id) was split mid-JSON by every line reader on Node 24: `import` of our own export failed ("line 2: not valid
// JSON"), and so did the README's pipeline back to 1.x. Export escapes them (the same JSON value), and import splits
// lines at "\n" only, so files written before, or by other tools, read on every Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, readStore, sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

const ODD = 'a\u2028b\u2029c';

test('export writes U+2028 and U+2029 escaped: one line per session for any line reader', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await writeStore(file, { [`id${ODD}`]: { ...sessionFor(1), note: ODD }, plain: sessionFor(2) });
  const out = join(dir, 's.jsonl');
  const exported = await cli(['export', file, '--out', out]);
  assert.equal(exported.code, 0, exported.stderr);
  const text = readFileSync(out, 'utf8');
  assert.ok(!/[\u2028\u2029]/.test(text), 'no raw separator in the file');
  const lines = text.trim().split(/\r?\n|[\u2028\u2029]/);
  assert.equal(lines.length, 2);
  const odd = lines.map((l) => JSON.parse(l)).find((l) => l.sid !== 'plain');
  assert.equal(odd.sid, `id${ODD}`);
  assert.equal(odd.session.note, ODD);
});

test('import reads a JSON Lines file with raw U+2028 and U+2029 inside its strings, and CRLF line ends', async (t) => {
  const dir = tempDir(t);
  const source = join(dir, 'in.jsonl');
  const expires = Date.now() + 3_600_000;
  const line = (sid, session) => JSON.stringify({ sid, expires, session });
  writeFileSync(source, `${line(`id${ODD}`, { note: ODD })}\r\n${line('plain', { note: 'x' })}\n`);
  const into = join(dir, 's.snap');
  const imported = await cli(['import', source, '--into', into]);
  assert.equal(imported.code, 0, imported.stderr);
  const all = await readStore(into);
  assert.deepEqual(Object.keys(all).sort(), [`id${ODD}`, 'plain'].sort());
  assert.equal(all[`id${ODD}`].note, ODD);
});
