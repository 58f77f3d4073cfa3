// HTTP benchmark: the same small express 5 app (http-server.mjs) with each store, each in its own process, loaded
// with autocannon on loopback.
//
//   node http.mjs [--json] [--quick] [--duration S] [--rounds N] [--connections N] [--prefill N]
//                 [--stores ours,memory,memorystore,memfilestore1,file,sqlite,sqlite-wal,redis] [--memory-only]
//
// Every connection is keep-alive and carries its own session: before the runs, the benchmark logs in once per
// connection (POST /login, a realistic session) and gives each connection its cookie. Two scenarios:
//   read    GET /read: the session is read, not changed; with resave: false express-session calls store.touch
//   modify  GET /count: views++; express-session calls store.set
// Each round runs every store once per scenario, `duration` seconds each, the store order rotating from round to
// round (and reversed every other round); the table gives the median over rounds of requests per second and of the 99th percentile latency, and
// ratios are paired (ours / peer in the same round, then the median). Every request must answer 200: a request
// that lost its session answers 401 and is reported.
// --json writes results/http.json for the report script.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, arch, cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { startRedis } from './redis-server.mjs';
import { cpuPressureMicros, load as loadServer, login, median, startServer as startHttpServer, stopServer } from './http-load.mjs';

const require = createRequire(import.meta.url);

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string', default: '50' },
    prefill: { type: 'string', default: '10000' },
    stores: { type: 'string' },
    'memory-only': { type: 'boolean', default: false },
  },
});
// Short runs, many rounds: on a shared machine, more paired samples beat longer ones.
const DURATION = Number(args.duration ?? (args.quick ? 1 : 1.5));
const ROUNDS = Number(args.rounds ?? (args.quick ? 4 : 14));
const CONNECTIONS = Number(args.connections);
const PREFILL = Number(args.prefill);
const WARMUP_S = args.quick ? 1 : 1.5;

const SCENARIOS = [
  { key: 'read', path: '/read', title: 'READ: GET /read, session unchanged (store.touch)' },
  { key: 'modify', path: '/count', title: 'MODIFY: GET /count, views++ (store.set)' },
];
const ALL = ['ours', 'memory', 'memorystore', 'memfilestore1', 'file', 'sqlite', 'sqlite-wal', 'redis'];
const keys = args.stores ? args.stores.split(',') : ALL;
for (const k of keys) {
  if (!ALL.includes(k)) {
    console.error(`--stores: unknown ${k}; known: ${ALL.join(', ')}`);
    process.exit(2);
  }
}

const TMP = mkdtempSync(join(tmpdir(), 'memfilestore-bench-http-'));
// Removed at the end, and also if the run ends early with an exception.
process.once('exit', () => rmSync(TMP, { recursive: true, force: true }));
let redis = null;
let redisSkipped = null;
if (keys.includes('redis')) {
  try {
    redis = await startRedis();
    if (!redis) redisSkipped = 'skipped (no redis-server)';
  } catch (err) {
    redisSkipped = `skipped (${err.message})`;
  }
}

/** Starts the app with one store in a child process; resolves when it listens. */
function startServer(key) {
  const extraArgs = [];
  if (redis) extraArgs.push('--redis-port', String(redis.port));
  if (args['memory-only']) extraArgs.push('--memory-only');
  return startHttpServer(key, { dir: TMP, prefill: PREFILL, extraArgs });
}

function load(server, path, seconds) {
  return loadServer(server, path, seconds, CONNECTIONS);
}

const t0 = performance.now();
const pressure0 = cpuPressureMicros();
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x ${availableParallelism()}; express ${require('express/package.json').version}, ` +
  `autocannon ${require('autocannon/package.json').version}`);
console.log(`${CONNECTIONS} keep-alive connections, each with its own session; ${PREFILL} more sessions in every store; ` +
  `${ROUNDS} rounds of ${DURATION} s per store and scenario (after ${WARMUP_S} s of warm-up), median`);

const servers = [];
const failed = {};
try {
  for (const key of keys) {
    if (key === 'redis' && !redis) continue;
    try {
      const started = await startServer(key);
      started.cookies = await login(started, CONNECTIONS);
      servers.push(started);
      process.stderr.write(`  ${started.label}: listening, ${CONNECTIONS} sessions logged in\n`);
    } catch (err) {
      failed[key] = err.message;
      process.stderr.write(`  ${key}: FAILED ${err.message}\n`);
    }
  }

  for (const server of servers) {
    server.samples = {};
    for (const sc of SCENARIOS) server.samples[sc.key] = [];
  }
  // Warm-up: every store and scenario, untimed.
  for (const server of servers) for (const sc of SCENARIOS) await load(server, sc.path, WARMUP_S);

  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order, and run every other round backwards, so that each pair of stores runs at every distance.
    const rotated = servers.map((_, i) => servers[(i + round) % servers.length]);
    const order = round % 2 ? rotated.reverse() : rotated;
    for (const sc of SCENARIOS) {
      for (const server of order) server.samples[sc.key].push(await load(server, sc.path, DURATION));
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} done (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
} finally {
  await Promise.all(servers.map(stopServer));
  await redis?.stop();
  rmSync(TMP, { recursive: true, force: true });
}
const totalMs = performance.now() - t0;
const pressure1 = cpuPressureMicros();
const contention = pressure0 === undefined || pressure1 === undefined ? undefined : (pressure1 - pressure0) / 1000 / totalMs;

// ---------------------------------------------------------------------------------------------------------------
// Results

const results = {};
for (const server of servers) {
  const r = { label: server.label, scenarios: {} };
  for (const sc of SCENARIOS) {
    const samples = server.samples[sc.key];
    r.scenarios[sc.key] = {
      rps: Math.round(median(samples.map((s) => s.rps))),
      rpsMin: Math.round(Math.min(...samples.map((s) => s.rps))),
      rpsMax: Math.round(Math.max(...samples.map((s) => s.rps))),
      p99Ms: round3(median(samples.map((s) => s.p99))),
      cpuUsPerRequest: round3(median(samples.map((s) => s.cpuUsPerRequest))),
      p50Ms: round3(median(samples.map((s) => s.p50))),
      errors: samples.reduce((a, s) => a + s.errors, 0),
      non2xx: samples.reduce((a, s) => a + s.non2xx, 0),
      samples: samples.map((s) => ({ ...s, rps: Math.round(s.rps), p50: round3(s.p50), p99: round3(s.p99), cpuUsPerRequest: round3(s.cpuUsPerRequest) })),
    };
  }
  results[server.key] = r;
}
function round3(x) {
  return Math.round(x * 1000) / 1000;
}

// Paired ratios: ours / peer in the same round (run seconds apart), median over rounds.
const ratios = {};
if (results.ours) {
  for (const sc of SCENARIOS) {
    ratios[sc.key] = {};
    for (const key of Object.keys(results)) {
      if (key === 'ours') continue;
      const mine = results.ours.scenarios[sc.key].samples;
      const theirs = results[key].scenarios[sc.key].samples;
      const perRound = mine.map((s, i) => s.rps / theirs[i].rps);
      // The same on the server's CPU time per request (theirs / ours: above 1, ours costs less).
      const perRoundCpu = mine.map((s, i) => theirs[i].cpuUsPerRequest / s.cpuUsPerRequest);
      ratios[sc.key][key] = { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), cpu: median(perRoundCpu) };
    }
  }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const fmtRatio = (r) => r.toFixed(r >= 100 ? 0 : r >= 10 ? 1 : 2);
const labels = [...servers.map((s) => s.label), ...Object.keys(failed), ...(redisSkipped ? ['connect-redis'] : [])];
const LABEL_W = Math.max(...labels.map((l) => l.length), 30) + 2;
const WIDTHS = [10, 18, 9, 9, 14, 19, 11];
for (const sc of SCENARIOS) {
  console.log(`\n${sc.title}. Requests per second and latency (ms), median of ${ROUNDS} rounds`);
  console.log('store'.padEnd(LABEL_W) + ['req/s', '(min-max)', 'p50 ms', 'p99 ms', 'ours / store', 'server CPU µs/req', 'CPU ratio'].map((h, i) => h.padStart(WIDTHS[i])).join(''));
  for (const server of servers) {
    const r = results[server.key].scenarios[sc.key];
    const ratio = ratios[sc.key]?.[server.key];
    console.log(server.label.padEnd(LABEL_W) + [fmt(r.rps), `(${fmt(r.rpsMin)}-${fmt(r.rpsMax)})`, r.p50Ms.toFixed(2), r.p99Ms.toFixed(2),
      ratio ? `${fmtRatio(ratio.median)}x` : '', r.cpuUsPerRequest.toFixed(0), ratio ? `${fmtRatio(ratio.cpu)}x` : ''].map((c, i) => String(c).padStart(WIDTHS[i])).join(''));
  }
  for (const [key, why] of Object.entries(failed)) console.log(key.padEnd(LABEL_W) + `FAILED: ${why}`);
  if (redisSkipped) console.log('connect-redis'.padEnd(LABEL_W) + redisSkipped);
}

const targets = [];
if (results.ours) {
  for (const sc of SCENARIOS) {
    if (ratios[sc.key].memory) {
      const r = ratios[sc.key].memory;
      targets.push({ name: `issue 4: HTTP ${sc.key} req/s >= 0.95x MemoryStore`, ok: r.median >= 0.95, ratio: r.median, detail: `${r.median.toFixed(2)}x (rounds ${r.min.toFixed(2)}-${r.max.toFixed(2)})` });
    }
    if (ratios[sc.key].file) {
      const r = ratios[sc.key].file;
      targets.push({ name: `issue 4: HTTP ${sc.key} req/s >= 10x session-file-store`, ok: r.median >= 10, ratio: r.median, detail: `${fmtRatio(r.median)}x (rounds ${fmtRatio(r.min)}-${fmtRatio(r.max)})` });
    }
  }
  console.log('\nTargets (paired median ratios of req/s):');
  for (const t of targets) console.log(`  ${t.ok ? 'MET   ' : 'MISSED'} ${t.name}: ${t.detail}`);
}
for (const server of servers) {
  for (const sc of SCENARIOS) {
    const r = results[server.key].scenarios[sc.key];
    if (r.errors || r.non2xx) console.log(`WARNING ${server.label}, ${sc.key}: ${r.errors} errors/timeouts, ${r.non2xx} non-2xx answers`);
  }
}
console.log(`\nTotal ${(totalMs / 1000).toFixed(0)} s.` + (contention === undefined ? '' : ` CPU contention: some task waited for a CPU ${(contention * 100).toFixed(0)}% of the time` +
  (contention > 0.1 ? ' (other processes were busy: compare the paired ratios)' : '') + '.'));

if (args.json) {
  const out = {
    benchmark: 'http',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), memoryBytes: totalmem(), platform: platform(), release: release(), arch: arch() },
    node: process.version,
    params: { connections: CONNECTIONS, durationS: DURATION, rounds: ROUNDS, warmupS: WARMUP_S, prefill: PREFILL, memoryOnly: args['memory-only'],
      express: require('express/package.json').version, autocannon: require('autocannon/package.json').version, redisServer: redis?.version ?? null },
    scenarios: SCENARIOS.map(({ key, path, title }) => ({ key, path, title })),
    stores: results,
    failed,
    skipped: redisSkipped ? { redis: { label: 'connect-redis', reason: redisSkipped } } : {},
    ratios,
    targets,
    cpuContention: contention,
    durationMs: Math.round(totalMs),
  };
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL('http.json', dir);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`Wrote ${file.pathname}`);
}
