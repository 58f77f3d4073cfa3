// What an editor shows a TypeScript user who hovers a name imported from the package: the doc comment of its
// declaration in dist/*.d.ts. Asked of TypeScript's language service (the one editors run) on the consumers of
// test/fixtures/ts-consumer, as the package is resolved through package.json "exports".
// The ES module entry (dist/index.d.mts) declared each name anew (`export declare const MemFileStore: typeof ...`,
// `export type MemFileStoreOptions = ...`): an ES module user, the README's first example, saw no doc at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ts = require('typescript');
const consumer = fileURLToPath(new URL('fixtures/ts-consumer/', import.meta.url));
const files = ['esm.mts', 'cjs.cts'].map((name) => `${consumer}${name}`);

function languageService() {
  const { config } = ts.readConfigFile(`${consumer}tsconfig.json`, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, consumer);
  return ts.createLanguageService({
    getScriptFileNames: () => files,
    getScriptVersion: () => '1',
    getScriptSnapshot: (file) => (ts.sys.fileExists(file) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(file)) : undefined),
    getCurrentDirectory: () => consumer,
    getCompilationSettings: () => options,
    getDefaultLibFileName: ts.getDefaultLibFilePath,
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  });
}

const service = languageService();

/** The documentation an editor shows on hovering the first `name` after `after` in `file`. */
function hoverDoc(file, after, name) {
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(name, text.indexOf(after));
  assert.ok(text.indexOf(after) >= 0 && at >= 0, `${after} … ${name} in ${file}`);
  const info = service.getQuickInfoAtPosition(file, at);
  return ts.displayPartsToString(info?.documentation ?? []);
}

test('an ES module import shows the doc comments of the class, its error, the options and the payload types', () => {
  const [esm] = files;
  assert.match(hoverDoc(esm, 'import memFileStore', 'MemFileStore,'), /express-session store/);
  assert.match(hoverDoc(esm, 'import memFileStore', 'StoreClosedError'), /after `close\(\)`.*ERR_STORE_CLOSED/);
  assert.match(hoverDoc(esm, 'type MemFileStoreOptions', 'MemFileStoreOptions'), /^Options of/);
  assert.match(hoverDoc(esm, 'type SaveInfo', 'SaveInfo'), /'save'/);
  assert.match(hoverDoc(esm, 'type LoadInfo', 'LoadInfo'), /'load'/);
  assert.match(hoverDoc(esm, 'type TtlFunction', 'TtlFunction'), /time to live/);
  // An option's doc, through the named type.
  assert.match(hoverDoc(esm, 'const options: MemFileStoreOptions', 'saveFile'), /snapshot file/);
});

test('a CommonJS user sees the same doc comments on the namespace\'s types', () => {
  const [, cjs] = files;
  assert.match(hoverDoc(cjs, 'const options: memFileStore.', 'MemFileStoreOptions'), /^Options of/);
  assert.match(hoverDoc(cjs, 'const stats: memFileStore.', 'StoreStats'), /store\.stats/);
  assert.match(hoverDoc(cjs, 'const typed: memFileStore.', 'MemFileStore'), /express-session store/);
});
