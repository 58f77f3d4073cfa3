// Instructions per store call, counted by valgrind's callgrind: a measure that does not move with the machine's
// load, where wall time on a shared 2-core machine moves by 2x between identical runs.
//
//   node instructions.mjs [--json] [--stores ours,memory,memorystore] [--ops get,set,touch] [--sessions N]
//
// Each (store, op) runs in a fresh `node --single-threaded` under callgrind twice, making PASSES_LOW and then
// PASSES_HIGH passes over the sessions; the difference divided by the extra calls is one call's cost, with start-up,
// module loading and setup cancelled out. Every call is followed by one turn of the event loop, as when one call is
// awaited at a time, so the callback's deferral is counted; the "event-loop turn" row is that turn alone and is
// subtracted from the others. Two baselines show the least any store with these semantics does per call: JSON.parse
// of a stored session (get) and JSON.stringify of a session (set).
// Needs valgrind (`apt-get install valgrind`); without it the script says so and exits 0.
// --json also writes results/instructions.json for the report script.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { makeSessions } from './sessions.mjs';

const require = createRequire(import.meta.url);
const PASSES_LOW = 10;
const PASSES_HIGH = 30;

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
    stores: { type: 'string', default: 'ours,memory,memorystore' },
    ops: { type: 'string', default: 'get,set,touch' },
    sessions: { type: 'string', default: '2000' },
  },
});
const SESSIONS = Number(args.sessions);

/** The stores, made as the throughput benchmark makes them (defaults, memory only). */
async function makeStore(key) {
  const session = require('express-session');
  switch (key) {
    case 'ours': return new (await import('express-memfilestore')).MemFileStore();
    case 'memory': return new session.MemoryStore();
    case 'memorystore': return new (require('memorystore')(session))();
    default: throw new Error(`unknown store ${key}`);
  }
}

/** In the child: fills the store, then makes `passes` passes of `op`, one event-loop turn after each call. */
async function child([key, op, passesText]) {
  const passes = Number(passesText);
  const { ids, sessions } = makeSessions(SESSIONS, { seed: 1 });
  const texts = sessions.map((s) => JSON.stringify(s));
  // Plain-object cookies, as after a JSON round trip (a wrapper store, a migration script).
  const plain = sessions.map((s) => JSON.parse(JSON.stringify(s)));
  const store = key === 'baseline' ? null : await makeStore(key);
  if (store) for (let i = 0; i < SESSIONS; i++) await new Promise((resolve) => store.set(ids[i], sessions[i], resolve));
  // set-new and destroy need ids the store does not hold / holds once: one per call of the longest run, made (and for
  // destroy stored) in both runs alike, so their cost cancels out in the difference.
  const extra = op === 'set-new' || op === 'set-new-plain' || op === 'destroy'
    ? Array.from({ length: PASSES_HIGH * SESSIONS }, (_, n) => `${ids[n % SESSIONS]}-${n}`) : [];
  if (store && op === 'destroy') for (let n = 0; n < extra.length; n++) await new Promise((resolve) => store.set(extra[n], sessions[n % SESSIONS], resolve));
  const noop = () => {};
  let sink = 0;
  const calls = {
    get: (i) => store.get(ids[i], noop),
    set: (i) => store.set(ids[i], sessions[i], noop),
    touch: (i) => store.touch(ids[i], sessions[i], noop),
    'set-new': (i, p) => store.set(extra[p * SESSIONS + i], sessions[i], noop),
    destroy: (i, p) => store.destroy(extra[p * SESSIONS + i], noop),
    'set-plain': (i) => store.set(ids[i], plain[i], noop),
    'set-new-plain': (i, p) => store.set(extra[p * SESSIONS + i], plain[i], noop),
    'touch-plain': (i) => store.touch(ids[i], plain[i], noop),
    turn: () => {},
    parse: (i) => { sink += JSON.parse(texts[i]).views; },
    stringify: (i) => { sink += JSON.stringify(sessions[i]).length; },
  };
  const call = calls[op];
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < SESSIONS; i++) {
      call(i, p);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (sink === 0.5) console.log(sink);
}

/** Instructions of one child run under callgrind. */
function count(key, op, passes) {
  return new Promise((resolve, reject) => {
    const proc = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file',
      process.execPath, '--single-threaded', new URL(import.meta.url).pathname, '--child', '--sessions', String(SESSIONS),
      key, op, String(passes)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('close', (code) => {
      const m = /Collected : (\d+)/.exec(err);
      if (code !== 0 || !m) reject(new Error(`${key} ${op}: valgrind exited ${code}: ${err.slice(-500)}`));
      else resolve(Number(m[1]));
    });
  });
}

async function perCall(key, op) {
  const [low, high] = await Promise.all([count(key, op, PASSES_LOW), count(key, op, PASSES_HIGH)]);
  return (high - low) / ((PASSES_HIGH - PASSES_LOW) * SESSIONS);
}

if (args.child) {
  await child(positionals);
} else {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('valgrind is not installed (apt-get install valgrind): instruction counts skipped.');
    process.exit(0);
  }
  const stores = args.stores.split(',');
  const ops = args.ops.split(',');
  const jobs = [['baseline', 'turn'], ['baseline', 'parse'], ['baseline', 'stringify'], ...stores.flatMap((s) => ops.map((op) => [s, op]))];
  const results = {};
  const t0 = performance.now();
  // Two runs per job already use two processes: one job at a time per pair of cores.
  const lanes = Math.max(1, Math.floor(availableParallelism() / 2));
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < jobs.length) {
      const [key, op] = jobs[next++];
      (results[key] ??= {})[op] = await perCall(key, op);
      process.stderr.write(`  ${key} ${op}: ${Math.round(results[key][op])} instructions per call\n`);
    }
  }));
  const turn = results.baseline.turn;
  const net = (v) => Math.round(v - turn);
  const labels = { ours: 'express-memfilestore', memory: 'express-session MemoryStore', memorystore: 'memorystore' };
  console.log(`\nInstructions per call (callgrind), after one event-loop turn (${Math.round(turn)}) is subtracted; ${SESSIONS} sessions:`);
  console.log('store'.padEnd(30) + ops.map((op) => op.padStart(10)).join(''));
  for (const s of stores) console.log((labels[s] ?? s).padEnd(30) + ops.map((op) => String(net(results[s][op])).padStart(10)).join(''));
  console.log(`JSON.parse of a stored session: ${net(results.baseline.parse)}; JSON.stringify of a session: ${net(results.baseline.stringify)}`);
  for (const s of stores.filter((k) => k !== 'ours')) {
    if (!results.ours) break;
    console.log(`${labels[s] ?? s} / ours: ` + ops.map((op) => `${op} ${((results[s][op] - turn) / (results.ours[op] - turn)).toFixed(2)}x`).join(', '));
  }
  console.log(`Total ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
  if (args.json) {
    const dir = new URL('./results/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL('instructions.json', dir), JSON.stringify({
      benchmark: 'instructions',
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism() },
      node: process.version,
      params: { sessions: SESSIONS, passes: [PASSES_LOW, PASSES_HIGH], valgrind: execFileSync('valgrind', ['--version']).toString().trim() },
      labels,
      eventLoopTurn: Math.round(turn),
      baselines: { parse: net(results.baseline.parse), stringify: net(results.baseline.stringify) },
      stores: Object.fromEntries(stores.map((s) => [s, Object.fromEntries(ops.map((op) => [op, net(results[s][op])]))])),
      durationMs: Math.round(performance.now() - t0),
    }, null, 2) + '\n');
  }
}
