// The README's options table against the built package: the options it lists are the options the types declare and
// the store accepts without an "unknown option" warning; each default it states is what `store.options` holds and
// what the store does; each refusal it states is a TypeError naming the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { ROOT } from './fixtures/readme/project.mjs';
import { tempDir } from './fixtures/persist/helpers.mjs';

/** The table under "## Options": `{ name: { type, default, meaning } }`. */
function optionsTable() {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('\n## Options\n'), text.indexOf('\n### Expiry\n'));
  const rows = {};
  for (const line of section.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim());
    const name = /^`(\w+)`$/.exec(cells[0] ?? '')?.[1];
    if (name === undefined || cells.length !== 5) continue;
    const [, type, dflt, , meaning] = cells;
    rows[name] = { type, default: dflt, meaning };
  }
  return rows;
}

/** Warnings a construction emits (the store reports an unknown option as a process warning). */
function warningsOf(options) {
  const seen = [];
  const listener = (w) => seen.push(w.message);
  process.on('warning', listener);
  const emit = process.emitWarning;
  process.emitWarning = (w) => seen.push(String(w?.message ?? w));
  try {
    const store = new MemFileStore(options);
    store.stopInterval();
    return { seen, store };
  } finally {
    process.emitWarning = emit;
    process.off('warning', listener);
  }
}

test('the table lists every option the types declare, and no other', () => {
  const declared = [...readFileSync(join(ROOT, 'dist/option-types.d.ts'), 'utf8')
    .slice(0, readFileSync(join(ROOT, 'dist/option-types.d.ts'), 'utf8').indexOf('export interface PublicOptions'))
    .matchAll(/^ {4}(\w+)\?:/gm)].map((m) => m[1]);
  assert.deepEqual(Object.keys(optionsTable()).sort(), declared.sort());
});

test('every option of the table is accepted without an "unknown option" warning; a misspelt one is warned about', () => {
  const names = Object.keys(optionsTable());
  const { seen } = warningsOf(Object.fromEntries(names.filter((n) => n !== 'journal').map((n) => [n, undefined])));
  assert.deepEqual(seen, []);
  assert.match(warningsOf({ savefile: 'x' }).seen.join('\n'), /unknown option "savefile".*did you mean "saveFile"/);
});

test('the defaults the table states are what store.options holds, with and without saveFile', (t) => {
  const table = optionsTable();
  const expected = {
    checkPeriod: ['none (no timer)', undefined],
    max: ['`Infinity`', Infinity],
    maxSize: ['`Infinity`', Infinity],
    ttl: ['from the cookie', undefined],
    savePeriod: ['`60000` with `saveFile`', 60_000],
    journal: ["`'everysec'` with `saveFile`, else `false`", 'everysec'],
  };
  const saveFile = join(tempDir(t), 'sessions.db');
  const withFile = new MemFileStore({ saveFile });
  t.after(() => withFile.close());
  const memoryOnly = new MemFileStore();
  for (const [name, [text, value]] of Object.entries(expected)) {
    assert.equal(table[name].default, text, name);
    assert.equal(withFile.options[name], value, name);
  }
  assert.equal(memoryOnly.options.journal, false);
  assert.equal(memoryOnly.options.savePeriod, undefined);
  assert.equal(withFile._checkInterval, undefined, 'no prune timer by default');
  assert.equal(memoryOnly.serializer, JSON);
  assert.equal(table.serializer.default, '`JSON`');
});

test('each refusal the table states is a TypeError naming the option', () => {
  const table = optionsTable();
  const refused = (options, name) => assert.throws(() => new MemFileStore(options),
    (err) => err instanceof TypeError && err.message.includes(`"${name}"`), JSON.stringify(options));
  assert.match(table.max.meaning, /At most 16,777,216/);
  refused({ max: 2 ** 24 + 1 }, 'max');
  assert.equal(new MemFileStore({ max: 0 }).options.max, 0, '`0` or `Infinity`: no limit');
  assert.match(table.maxSize.meaning, /`0` is a `TypeError`/);
  refused({ maxSize: 0 }, 'maxSize');
  assert.match(table.ttl.meaning, /a negative one is a `TypeError`/);
  refused({ ttl: -1 }, 'ttl');
  assert.match(table.savePeriod.meaning, /a negative value is a `TypeError`/);
  refused({ saveFile: 'x', savePeriod: -1 }, 'savePeriod');
  assert.match(table.journal.meaning, /Without `saveFile` only `false` is accepted/);
  refused({ journal: 'everysec' }, 'journal');
  assert.match(table.clock.meaning, /at construction is a `TypeError`/);
  refused({ clock: () => NaN }, 'clock');
  assert.match(table.closeOnSignals.type, /boolean or signal names/);
  refused({ closeOnSignals: ['SIGKILL'] }, 'closeOnSignals');
  assert.match(table.onDamagedFile.type, /`'error'` or `'move-aside'`/);
  refused({ onDamagedFile: 'ignore' }, 'onDamagedFile');
});
