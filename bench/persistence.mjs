// Persistence benchmark: ours next to express-memfilestore 1.7.1, measured in the same run.
//   node persistence.mjs [--sizes 10000,100000] [--million] [--json]
// For each store and size, in fresh processes: fill the store, save while serving get+touch calls
// (longest event-loop stall, save duration, file size, heap per session), then load the file at startup.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const sizesArg = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : '10000,100000';
const sizes = sizesArg.split(',').map(Number);
if (args.includes('--million')) sizes.push(1_000_000);
const kinds = ['ours', '1.x'];
const dir = mkdtempSync(join(tmpdir(), 'memfilestore-bench-'));

function run(mode, kind, count) {
  const file = join(dir, `${kind}-${count}.snapshot`);
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192',
    new URL('./persistence-worker.mjs', import.meta.url).pathname, mode, kind, String(count), file],
  { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop());
}

const results = [];
try {
  for (const count of sizes) {
    for (const kind of kinds) {
      const save = run('save', kind, count);
      const load = run('load', kind, count);
      results.push({ ...save, loadMs: load.loadMs, loaded: load.loaded });
      process.stderr.write(`  ${kind} ${count}: done\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rows = [['sessions', 'store', 'longest stall ms', 'save ms', 'file MB', 'load ms', 'heap B/session', 'serialized B/session']];
for (const r of results) {
  rows.push([fmt(r.sessions), r.kind === 'ours' ? 'express-memfilestore 2' : 'express-memfilestore 1.7.1',
    fmt(r.loopDelayMaxMs, 1), fmt(r.durationMs), fmt(r.fileBytes / 1e6, 1), fmt(r.loadMs), fmt(r.heapPerSession), fmt(r.serializedPerSession)]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));

console.log('\nRatios (ours / 1.7.1, lower is better) and targets:');
for (const count of sizes) {
  const ours = results.find((r) => r.kind === 'ours' && r.sessions === count);
  const old = results.find((r) => r.kind === '1.x' && r.sessions === count);
  console.log(`  ${fmt(count)}: stall ${fmt(ours.loopDelayMaxMs / old.loopDelayMaxMs, 3)}x (${fmt(ours.loopDelayMaxMs, 1)} ms, target <= 20 ms at 100k), ` +
    `load ${fmt(ours.loadMs / old.loadMs, 2)}x (target <= 0.33x), memory ${fmt(ours.heapPerSession / ours.serializedPerSession, 2)}x serialized (target <= 1.5x), ` +
    `all ${fmt(ours.loaded)} sessions loaded back`);
}

if (args.includes('--json')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/persistence.json', import.meta.url), `${JSON.stringify({
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, platform: process.platform },
    date: new Date().toISOString(),
    results,
  }, null, 2)}\n`);
}
