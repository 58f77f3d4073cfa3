// Persistence benchmark: ours next to express-memfilestore 1.7.1, measured in the same run.
//   node persistence.mjs [--sizes 10000,100000] [--million] [--json] [--timeout S] [--load-repeats N]
// For each store and size, in fresh processes: fill the store, save while serving get+touch calls
// (longest event-loop stall, save duration, file size, heap per session), then load the file at startup: N times
// (default 3), median; the load ratio is paired (back-to-back loads, which of the two runs first alternating), median.
// Each repeat also loads ours' file with the floor (read it, check its SHA-256, decode each record into a Map: the
// least work a load does), so ours / floor is paired too; heap / serialized is the heap per session after a full GC
// next to its serialized size.
// --million adds 1,000,000 sessions. A worker that fails (out of memory, an exception, a string too long) or runs
// past --timeout seconds (default 900 at 1M, 300 below) is recorded with its error and time, and the run goes on.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const sizesArg = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : '10000,100000';
const sizes = sizesArg.split(',').map(Number);
if (args.includes('--million')) sizes.push(1_000_000);
const timeoutArg = args.includes('--timeout') ? Number(args[args.indexOf('--timeout') + 1]) : undefined;
const LOAD_REPEATS = args.includes('--load-repeats') ? Number(args[args.indexOf('--load-repeats') + 1]) : 3;
const kinds = ['ours', '1.x'];
const dir = mkdtempSync(join(tmpdir(), 'memfilestore-bench-'));
const started = performance.now();

function run(mode, kind, count) {
  const file = join(dir, `${kind}-${count}.snapshot`);
  const timeoutS = timeoutArg ?? (count >= 1_000_000 ? 900 : 300);
  const t0 = performance.now();
  try {
    const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192',
      new URL('./persistence-worker.mjs', import.meta.url).pathname, mode, kind, String(count), file],
    { encoding: 'utf8', maxBuffer: 1 << 20, timeout: timeoutS * 1000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').pop());
  } catch (err) {
    // Record the failure honestly (its message and how long it ran) instead of ending the run.
    const seconds = (performance.now() - t0) / 1000;
    const timedOut = err.signal === 'SIGKILL' && seconds >= timeoutS - 1;
    const stderr = String(err.stderr ?? '').trim().split('\n').filter((l) => l.trim() && !/^\s+at /.test(l));
    const why = timedOut ? `did not finish within ${timeoutS} s` : (stderr.find((l) => /Error|error|heap|memory/.test(l)) ?? stderr.pop() ?? err.message);
    return { error: `${mode} failed after ${seconds.toFixed(1)} s: ${why.trim().slice(0, 300)}`, failedAfterMs: Math.round(seconds * 1000) };
  }
}

const median = (list) => {
  const v = [...list].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const results = [];
// Per size: the load time ratio ours / 1.7.1, paired (loads run back to back), median over the repeats.
const loadRatios = {};
// Per size: ours' load time / the floor's on the same file, paired, median over the repeats.
const floorRatios = {};
try {
  for (const count of sizes) {
    const rows = {};
    for (const kind of kinds) {
      const save = run('save', kind, count);
      rows[kind] = { kind, sessions: count, ...save, loadSamplesMs: [] };
      process.stderr.write(`  ${kind} ${count}: ${save.error ? `save FAILED: ${save.error}` : 'saved'}\n`);
    }
    // Each file is loaded LOAD_REPEATS times, each load in a fresh process: the median is steadier than one load on a
    // busy machine. A failed save leaves no file to load.
    const pairs = [];
    const floorPairs = [];
    const floorSamples = [];
    // Ours loads between the other two, which swap sides from one repeat to the next: each runs before ours as often
    // as after it (ours first every time put every pair in the same order).
    for (let r = 0; r < LOAD_REPEATS; r++) {
      const times = {};
      for (const step of r % 2 ? ['1.x', 'ours', 'floor'] : ['floor', 'ours', '1.x']) {
        const row = rows[step === 'floor' ? 'ours' : step];
        if (row.error || (step !== 'floor' && row.loadError)) continue;
        if (step === 'floor') {
          const floor = run('floor', 'ours', count);
          if (!floor.error) times.floor = floor.loadMs;
          continue;
        }
        const load = run('load', step, count);
        if (load.error) row.loadError = load.error;
        else {
          row.loadSamplesMs.push(load.loadMs);
          row.loaded = load.loaded;
          times[step] = load.loadMs;
        }
      }
      if (times.ours !== undefined && times['1.x'] !== undefined) pairs.push(times.ours / times['1.x']);
      if (times.ours !== undefined && times.floor !== undefined) {
        floorSamples.push(times.floor);
        floorPairs.push(times.ours / times.floor);
      }
    }
    if (floorPairs.length) {
      rows.ours.floorLoadMs = median(floorSamples);
      floorRatios[count] = { median: median(floorPairs), samples: floorPairs };
    }
    for (const kind of kinds) {
      const row = rows[kind];
      if (row.loadSamplesMs.length) row.loadMs = median(row.loadSamplesMs);
      if (row.error || row.loadError) row.error = [row.error, row.loadError].filter(Boolean).join('; ');
      else if (row.loaded !== count) row.error = `loaded ${row.loaded} of ${count} sessions`;
      delete row.loadError;
      results.push(row);
      if (row.loadSamplesMs.length) process.stderr.write(`  ${kind} ${count}: loaded (${row.loadSamplesMs.map((t) => Math.round(t)).join(', ')} ms)\n`);
      rmSync(join(dir, `${kind}-${count}.snapshot`), { force: true });
    }
    if (pairs.length) loadRatios[count] = { median: median(pairs), samples: pairs };
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rows = [['sessions', 'store', 'longest stall ms', 'save ms', 'file MB', 'load ms', 'load / floor', 'heap B/session', 'serialized B/session', 'heap / serialized']];
// A figure a failed worker did not produce is shown as "-".
const opt = (n, digits) => (typeof n === 'number' && Number.isFinite(n) ? fmt(n, digits) : '-');
for (const r of results) {
  rows.push([fmt(r.sessions), r.kind === 'ours' ? 'express-memfilestore 2' : 'express-memfilestore 1.7.1',
    opt(r.loopDelayMaxMs, 1), opt(r.durationMs), opt(r.fileBytes / 1e6, 1), opt(r.loadMs),
    r.kind === 'ours' && floorRatios[r.sessions] ? `${fmt(floorRatios[r.sessions].median, 2)}x` : '-',
    opt(r.heapPerSession), opt(r.serializedPerSession), `${opt(r.heapPerSession / r.serializedPerSession, 2)}x`]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
for (const r of results) if (r.error) console.log(`FAILED ${r.kind === 'ours' ? 'express-memfilestore 2' : 'express-memfilestore 1.7.1'} at ${fmt(r.sessions)}: ${r.error}`);

console.log('\nRatios (ours / 1.7.1, lower is better) and targets:');
for (const count of sizes) {
  const ours = results.find((r) => r.kind === 'ours' && r.sessions === count);
  const old = results.find((r) => r.kind === '1.x' && r.sessions === count);
  if (ours.error) {
    console.log(`  ${fmt(count)}: ours FAILED: ${ours.error}`);
    continue;
  }
  const vs = (a, b, d) => (old.error || !(b > 0) ? `- (1.7.1 failed)` : `${fmt(a / b, d)}x`);
  const loadRatio = loadRatios[count] ? `${fmt(loadRatios[count].median, 2)}x` : '- (1.7.1 failed)';
  console.log(`  ${fmt(count)}: stall ${vs(ours.loopDelayMaxMs, old.loopDelayMaxMs, 3)} (${fmt(ours.loopDelayMaxMs, 1)} ms, target <= 20 ms at 100k), ` +
    `load ${loadRatio} (paired, median of ${LOAD_REPEATS}; target <= 0.33x), memory ${fmt(ours.heapPerSession / ours.serializedPerSession, 2)}x serialized (target <= 1.5x), ` +
    `all ${fmt(ours.loaded)} sessions loaded back`);
  if (floorRatios[count]) {
    console.log(`  ${fmt(count)}: load ${fmt(floorRatios[count].median, 2)}x the floor (${fmt(ours.loadMs)} vs ${fmt(ours.floorLoadMs)} ms; ` +
      `paired, median of ${floorRatios[count].samples.length}; target <= 1.5x at 100k), heap ${fmt(ours.heapPerSession / ours.serializedPerSession, 2)}x serialized (target <= 1.3x at 100k)`);
  }
}
console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`);

if (args.includes('--json')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/persistence.json', import.meta.url), `${JSON.stringify({
    benchmark: 'persistence',
    machine: { cpus: cpus().length, cores: availableParallelism(), cpu: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version, platform: process.platform },
    node: process.version,
    date: new Date().toISOString(),
    sizes,
    loadRepeats: LOAD_REPEATS,
    loadRatios,
    floorRatios,
    durationMs: Math.round(performance.now() - started),
    results,
  }, null, 2)}\n`);
}
