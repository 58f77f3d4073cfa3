// Builds dist/: tsc compiles src/ to CommonJS with types; a thin ES module wrapper re-exports it.
// One implementation for both `require` and `import` means one MemFileStore class: no dual-package
// hazard (instanceof and module state agree whichever way the app loads us).
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });

const values = ['MemFileStore', 'StoreClosedError'];
const types = ['MemFileStoreOptions', 'PublicOptions', 'Serializer', 'TtlFunction', 'DisposeFunction', 'DisposeReason', 'StoredSession',
  'JournalOption', 'StoreStats', 'PersistenceStats', 'JournalStats', 'SaveInfo', 'LoadInfo', 'MemFileStoreEvents', 'SessionId'];

writeFileSync(new URL('../dist/index.mjs', import.meta.url), [
  "import memFileStore from './index.js';",
  ...values.map((name) => `export const ${name} = memFileStore.${name};`),
  'export default memFileStore;',
  '',
].join('\n'));

writeFileSync(new URL('../dist/index.d.mts', import.meta.url), [
  "import memFileStore from './index.js';",
  // Aliases, not `const X: typeof ...` and `type X = ...`: an editor follows them to the doc comments.
  ...[...values, ...types].map((name) => `export import ${name} = memFileStore.${name};`),
  'export default memFileStore;',
  '',
].join('\n'));

// The command-line tool: npm makes bin files executable on install, but a clone running dist/ directly needs it too.
chmodSync(new URL('../dist/cli/bin.js', import.meta.url), 0o755);
