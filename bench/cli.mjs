// Command-line benchmark: `migrate` and `import redis://` of 100k sessions against a private redis-server, next to
// a naive loop (one awaited SET per session out, one awaited GET per session back) measured in the same run.
//   node cli.mjs [--sessions 100000] [--rounds 3] [--json] [--bin <path of another build's dist/cli/bin.js, to compare>]
// Ours runs as the real bin in a child process, so its time includes starting node, loading and checking the file,
// connecting, SCAN, verification and writing the snapshot: everything a user waits for. The naive loops get their
// data ready in memory and are timed on the writes/reads alone. Median of --rounds for ours; the naive loops once.
// Each command's --json gives its phases (migrate: read = load + check the file, connect, write, verify; import: scan,
// fetch = read back + check, write = the snapshot); `other` is the rest of the whole: node's start, loading node-redis.
// Targets (issue 10): >= 10x the naive loop, and 100k sessions in <= 5 s each way.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { startRedis } from './redis-server.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const SESSIONS = flag('--sessions', 100_000);
const ROUNDS = flag('--rounds', 3);
const BIN = args.includes('--bin') ? args[args.indexOf('--bin') + 1] : fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'memfilestore-bench-cli-'));

function cli(cliArgs) {
  const started = performance.now();
  const out = execFileSync(process.execPath, [BIN, ...cliArgs, '--json', '--quiet'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { seconds: (performance.now() - started) / 1000, result: JSON.parse(out) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A realistic logged-in session (about 250 bytes of JSON), as express-session stores it. */
function session(i, now) {
  const maxAge = 86_400_000;
  return {
    cookie: { originalMaxAge: maxAge, expires: new Date(now + maxAge - (i % 3600) * 1000).toISOString(), secure: false, httpOnly: true, path: '/', sameSite: 'lax' },
    user: { id: i, name: `user ${i}`, roles: ['reader'] }, csrfSecret: `csrf${i.toString(36).padStart(20, '0')}`, views: i % 17,
  };
}

const server = await startRedis();
if (!server) {
  console.error('redis-server is not installed: nothing to measure');
  process.exit(1);
}
const url = `redis://127.0.0.1:${server.port}`;
const client = createClient({ url });
client.on('error', () => {});
await client.connect();

try {
  // The session file, written by the CLI's own import from JSON Lines.
  const now = Date.now();
  const sids = Array.from({ length: SESSIONS }, (_, i) => `${i.toString(36).padStart(8, '0')}${'x'.repeat(24)}`);
  const lines = sids.map((sid, i) => {
    const sess = session(i, now);
    return JSON.stringify({ sid, expires: Date.parse(sess.cookie.expires), session: sess });
  });
  writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
  const file = join(dir, 'sessions.db');
  cli(['import', join(dir, 'in.jsonl'), '--into', file]);

  const migrateSeconds = [];
  const importSeconds = [];
  // Where each command's time goes, from its --json (`phases`); the rest of the whole is node's start and loading node-redis.
  const migratePhases = [];
  const importPhases = [];
  for (let round = 0; round < ROUNDS; round++) {
    await client.flushAll();
    const m = cli(['migrate', file, '--to', url]);
    if (m.result.verified !== SESSIONS) throw new Error(`migrate verified ${m.result.verified}`);
    migrateSeconds.push(m.seconds);
    migratePhases.push(m.result.phases);
    const target = join(dir, `back-${round}.db`);
    const i = cli(['import', url, '--into', target]);
    if (i.result.imported !== SESSIONS) throw new Error(`import read ${i.result.imported}`);
    importSeconds.push(i.seconds);
    importPhases.push(i.result.phases);
    rmSync(target);
  }

  // Naive: one awaited SET per session, data prepared in memory beforehand.
  await client.flushAll();
  const parsed = lines.map((l) => JSON.parse(l));
  const values = parsed.map((l) => JSON.stringify(l.session));
  let t0 = performance.now();
  for (let i = 0; i < SESSIONS; i++) await client.set(`sess:${parsed[i].sid}`, values[i], { PXAT: parsed[i].expires });
  const naiveSet = (performance.now() - t0) / 1000;
  // Naive back: one awaited GET per session (its expiry not even read), keys known beforehand.
  t0 = performance.now();
  for (let i = 0; i < SESSIONS; i++) await client.get(`sess:${parsed[i].sid}`);
  const naiveGet = (performance.now() - t0) / 1000;

  const rate = (s) => Math.round(SESSIONS / s);
  /** Median of each phase over the rounds, and `other`: the median whole minus their sum. */
  const phases = (all, whole) => {
    const out = {};
    for (const name of Object.keys(all[0] ?? {})) out[name] = median(all.map((p) => p[name]));
    out.other = Number((whole - Object.values(out).reduce((a, b) => a + b, 0)).toFixed(3));
    return out;
  };
  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'} (shared with other work)`,
    node: process.version,
    redis: server.version,
    sessions: SESSIONS,
    rounds: ROUNDS,
    migrate: { seconds: median(migrateSeconds), perSecond: rate(median(migrateSeconds)), all: migrateSeconds, phases: phases(migratePhases, median(migrateSeconds)) },
    naiveSet: { seconds: naiveSet, perSecond: rate(naiveSet) },
    import: { seconds: median(importSeconds), perSecond: rate(median(importSeconds)), all: importSeconds, phases: phases(importPhases, median(importSeconds)) },
    naiveGet: { seconds: naiveGet, perSecond: rate(naiveGet) },
  };
  result.migrate.vsNaive = Number((naiveSet / result.migrate.seconds).toFixed(1));
  result.import.vsNaive = Number((naiveGet / result.import.seconds).toFixed(1));
  result.targets = {
    migrate10x: result.migrate.vsNaive >= 10, migrate5s: result.migrate.seconds <= 5,
    import10x: result.import.vsNaive >= 10, import5s: result.import.seconds <= 5,
  };
  if (args.includes('--json') && !args.includes('--bin')) {
    writeFileSync(new URL('./results/cli.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  }
  const row = (name, r, extra = '') => `${name.padEnd(40)} ${r.seconds.toFixed(2).padStart(7)} s ${String(r.perSecond).padStart(9)} sessions/s${extra}`;
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  console.log(`${SESSIONS} sessions, redis-server ${server.version}, node ${process.version}; ours: median of ${ROUNDS}, whole command`);
  console.log(row('migrate (bin: script per batch + verify)', result.migrate, `  ${result.migrate.vsNaive}x naive`));
  console.log(row('naive: await SET per session', result.naiveSet));
  console.log(row('import redis:// (bin: SCAN + MGET/script)', result.import, `  ${result.import.vsNaive}x naive`));
  console.log(row('naive: await GET per session', result.naiveGet));
  const showPhases = (p) => Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  console.log(`phases (s, median): migrate ${showPhases(result.migrate.phases)}`);
  console.log(`                    import  ${showPhases(result.import.phases)}`);
  console.log(`target >= 10x naive: migrate ${result.migrate.vsNaive}x ${verdict(result.targets.migrate10x)}, ` +
    `import ${result.import.vsNaive}x ${verdict(result.targets.import10x)}`);
  console.log(`target <= 5 s each way: migrate ${result.migrate.seconds.toFixed(2)} s ${verdict(result.targets.migrate5s)}, ` +
    `import ${result.import.seconds.toFixed(2)} s ${verdict(result.targets.import5s)}`);
} finally {
  await client.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
