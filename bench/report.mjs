// Writes the benchmark results into the root README.md (between <!-- bench:start --> and <!-- bench:end -->) and
// draws them as docs/benchmark.svg. Every number comes from bench/results/*.json (throughput.json, http.json,
// persistence.json and, when present, instructions.json), written by the benchmark scripts with --json.
//
//   node report.mjs [--stdout]     --stdout: print the markdown section instead of writing README.md and the SVG
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pairedMedian } from './http-load.mjs';
import { journalChart, journalMarkdown } from './report-journal.mjs';

const ROOT = new URL('../', import.meta.url);
const RESULTS = new URL('./results/', import.meta.url);
const README = new URL('README.md', ROOT);
const SVG_FILE = new URL('docs/benchmark.svg', ROOT);
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';
const toStdout = process.argv.includes('--stdout');

function readResults(name) {
  const file = new URL(`${name}.json`, RESULTS);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8'));
}
const throughput = readResults('throughput');
const http = readResults('http');
const persistence = readResults('persistence');
const instructions = readResults('instructions');
const journal = readResults('journal');
if (!throughput && !http && !persistence) {
  console.error('No results in bench/results/: run throughput.mjs, http.mjs and persistence.mjs with --json first (npm run all).');
  process.exit(1);
}

// The command that reruns it all: the root script when the root package.json has one, else the long form.
const rootScripts = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')).scripts ?? {};
const RERUN = rootScripts['bench:all']
  ? 'npm run bench:all'
  : 'npm run build && npm --prefix bench install --no-audit --no-fund && npm --prefix bench run all';
const RERUN_MILLION = 'npm --prefix bench run persistence:million && npm --prefix bench run report';

// ---------------------------------------------------------------------------------------------------------------
// Formatting

const int = (n) => Math.round(n).toLocaleString('en-US');
const dec = (n, d) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const ratio = (r) => `${r.toFixed(r >= 100 ? 0 : r >= 10 ? 1 : 2)}x`;
const num = (n, d = 0) => (typeof n === 'number' && Number.isFinite(n) ? (d ? dec(n, d) : int(n)) : '–');
const day = (iso) => (iso ? iso.slice(0, 10) : 'unknown');
const md = (s) => String(s).replace(/\|/g, '\\|');
const table = (head, rows, align) => [
  `| ${head.join(' | ')} |`,
  `|${head.map((_, i) => (align?.[i] === 'l' ? '---' : '--:')).join('|')}|`,
  ...rows.map((r) => `| ${r.map(md).join(' | ')} |`),
].join('\n');

// The ops a results file has (older files: the first four); set-new and the -plain rows came with issue 11.
/** Why the paired ratio and the raw medians can disagree: one line, under the HTTP table and in the chart. */
const HTTP_WHY = 'Ratio first: each round runs every store back to back, ours / store is taken within the round and its median ' +
  'over rounds is the headline; the raw req/s are each store\'s own median over rounds, which a slow spell on this shared ' +
  'machine moves for whichever stores it hit, so the two can rank stores differently.';
/** The same, short enough for one line of the chart. */
const HTTP_WHY_CHART = 'Ratio and raw req/s can differ: the ratio pairs stores within each round; a raw median is per store over rounds, so a slow spell moves only the stores it hit.';
const OPS = throughput ? Object.keys(Object.values(throughput.stores)[0]?.awaited ?? {}) : ['get', 'set', 'touch', 'destroy'];
const HOT = ['get', 'set', 'touch'];

// ---------------------------------------------------------------------------------------------------------------
// Targets of issue 4, computed from the numbers

const targets = [];
const target = (name, ok, detail) => targets.push({ name, status: ok === null ? 'NOT RUN' : ok ? 'MET' : 'MISSED', detail });

if (throughput?.ratios?.awaited) {
  const aw = throughput.ratios.awaited;
  const lowest = (peer) => {
    const list = HOT.map((op) => ({ op, r: aw[peer][op].median }));
    return list.reduce((a, b) => (b.r < a.r ? b : a));
  };
  const each = (peer) => HOT.map((op) => `${op} ${ratio(aw[peer][op].median)}`).join(', ');
  // The calls where the floor itself (a bare Map with expiry and setImmediate: no LRU, no size, no checks) is below
  // MemoryStore, paired within rounds as every ratio here: a target no store with these semantics can reach there.
  const floorBelow = (mode) => {
    const floor = throughput.stores['floor-immediate']?.[mode];
    const memory = throughput.stores.memory?.[mode];
    if (!floor || !memory) return '';
    const below = OPS.map((op) => ({ op, r: pairedMedian(floor[op].samples, memory[op].samples) })).filter((x) => x.r < 1);
    return below.length === 0 ? '' : ` (the floor with setImmediate, a bare \`Map\` with expiry and no LRU, size or checks, is itself ` +
      `below MemoryStore on ${below.map((x) => `${x.op} ${ratio(x.r)}`).join(', ')})`;
  };
  for (const mode of ['awaited', 'inflight']) {
    const byOp = throughput.ratios[mode]?.memory;
    if (!byOp) continue;
    const list = OPS.map((op) => ({ op, r: byOp[op].median }));
    const w = list.reduce((a, b) => (b.r < a.r ? b : a));
    target(`issue 11: every call at least 1x express-session MemoryStore (${mode === 'awaited' ? 'awaited' : `${throughput.params.inflight} in flight`})`,
      w.r >= 1, `lowest: ${w.op} ${ratio(w.r)}; ${list.map((x) => `${x.op} ${ratio(x.r)}`).join(', ')}${floorBelow(mode)}`);
  }
  if (aw.memory) {
    const w = lowest('memory');
    target('get/set/touch at least 1x express-session MemoryStore (awaited)', w.r >= 1, `ours / MemoryStore: ${each('memory')}`);
  }
  // How fast the floors themselves are next to a peer (medians of calls per second): what any store can reach.
  const floorVs = (floor, peer) => HOT.map((op) =>
    `${op} ${ratio(throughput.stores[floor].awaited[op].median / throughput.stores[peer].awaited[op].median)}`).join(', ');
  if (aw.memorystore) {
    const w = lowest('memorystore');
    const ms = instructions?.stores?.memorystore;
    target('get/set/touch at least 2x memorystore 1.6.8 (awaited)', w.r >= 2, `ours / memorystore: ${each('memorystore')}` +
      (aw.floor ? ` (the floor with process.nextTick, the least work possible, reaches ${floorVs('floor', 'memorystore')}: ` +
        'one JSON.parse or JSON.stringify per call, which every store with these semantics does, is most of memorystore\'s time too' +
        (ms && instructions.stores.ours ? `; counted in instructions per call, memorystore's get is ${int(ms.get)} of which JSON.parse alone is ` +
          `${int(instructions.baselines.parse)}, and ours ${int(instructions.stores.ours.get)}; memorystore / ours: ` +
          HOT.map((op) => `${op} ${ratio(ms[op] / instructions.stores.ours[op])}`).join(', ') : '') + ')' : ''));
  }
  const deferral = throughput.deferral?.awaited;
  for (const [floor, name] of [['floor-immediate', 'the floor with the same deferral as ours (setImmediate)'],
    ['floor', 'the floor with process.nextTick']]) {
    if (!aw[floor]) continue;
    const w = lowest(floor);
    target(`get/set/touch within 1.3x of ${name} (awaited)`, w.r >= 1 / 1.3,
      `ours / floor: ${each(floor)}; slowest: ${w.op} takes ${(1 / w.r).toFixed(2)}x the floor's time` +
      (floor === 'floor' && deferral ? ` (a store that only calls back makes ${int(deferral.nextTick)} calls/s with process.nextTick and ` +
        `${int(deferral.setImmediate)} with setImmediate, awaited: ours uses setImmediate because it costs the HTTP server less CPU per request, see src/store/callback.ts)` : ''));
  }
}
if (http?.ratios) {
  const sc = Object.keys(http.ratios);
  if (sc.every((k) => http.ratios[k].memory)) {
    const list = sc.map((k) => ({ k, r: http.ratios[k].memory.median }));
    target('HTTP requests per second at least 0.95x MemoryStore', list.every((x) => x.r >= 0.95),
      list.map((x) => `${x.k} ${ratio(x.r)}`).join(', '));
  }
  if (sc.every((k) => http.ratios[k].file)) {
    const list = sc.map((k) => ({ k, r: http.ratios[k].file.median }));
    // What bounds this ratio: the server's CPU per request of session-file-store next to MemoryStore's (express's
    // own cost plus a store that costs next to nothing).
    const bound = http.stores.memory && sc.map((k) => {
      const f = http.stores.file.scenarios[k].cpuUsPerRequest;
      const m = http.stores.memory.scenarios[k].cpuUsPerRequest;
      return `${k}: ${int(f)} vs ${int(m)} µs, ${ratio(f / m)}`;
    }).join('; ');
    target('HTTP requests per second at least 10x session-file-store', list.every((x) => x.r >= 10),
      list.map((x) => `${x.k} ${ratio(x.r)}`).join(', ') +
      (bound ? ` (server CPU per request, session-file-store vs MemoryStore, ${bound}: express's own cost per request bounds the ratio any in-memory store can reach)` : ''));
  }
}
const prow = (kind, n) => persistence?.results?.find((r) => r.kind === kind && r.sessions === n);
if (persistence) {
  const ours = prow('ours', 100_000);
  const old = prow('1.x', 100_000);
  if (ours && !ours.error) {
    target('Save of 100k sessions: longest event-loop stall at most 20 ms', ours.loopDelayMaxMs <= 20,
      `${dec(ours.loopDelayMaxMs, 1)} ms` + (old && !old.error ? ` (1.7.1: ${int(old.loopDelayMaxMs)} ms)` : ''));
    if (old && !old.error) {
      // The paired ratio (back-to-back loads, median over the repeats) when the run has it, else the medians' ratio.
      const paired = persistence.loadRatios?.[100_000];
      const r = paired ? paired.median : ours.loadMs / old.loadMs;
      target('Load of 100k sessions at most 1/3 of 1.7.1\'s time', r <= 1 / 3,
        `${int(ours.loadMs)} ms vs ${int(old.loadMs)} ms` + (paired
          ? ` (medians of ${paired.samples.length} loads each); paired ratio ${r.toFixed(3)}x, target <= 0.333x (loads: ${paired.samples.map((x) => x.toFixed(3)).join(', ')})`
          : `: ${r.toFixed(3)}x, target <= 0.333x`));
    }
    const f = ours.heapPerSession / ours.serializedPerSession;
    target('Memory per session at most 1.5x its serialized size (100k)', f <= 1.5,
      `${int(ours.heapPerSession)} B of heap per session for ${int(ours.serializedPerSession)} B serialized: ${f.toFixed(2)}x`);
    target('issue 11: memory per session at most 1.3x its serialized size (100k)', f <= 1.3, `${f.toFixed(2)}x`);
    const floor = persistence.floorRatios?.[100_000];
    target('issue 11: load of 100k sessions at most 1.5x the floor (read, SHA-256, decode into a Map)', floor ? floor.median <= 1.5 : null,
      floor ? `${int(ours.loadMs)} ms vs ${int(ours.floorLoadMs)} ms; paired ratio ${floor.median.toFixed(2)}x (loads: ${floor.samples.map((x) => x.toFixed(2)).join(', ')})`
        : 'not in this run: `npm --prefix bench run persistence:json`');
  } else if (ours?.error) {
    target('Save and load of 100k sessions', false, ours.error);
  }
  const million = prow('ours', 1_000_000);
  if (million) {
    target('1M sessions save and load without error', !million.error && million.loaded === 1_000_000,
      million.error ?? `saved in ${dec(million.durationMs / 1000, 1)} s (longest stall ${dec(million.loopDelayMaxMs, 1)} ms), ` +
        `${num(million.fileBytes / 1e6)} MB, loaded ${int(million.loaded)} sessions in ${dec(million.loadMs / 1000, 1)} s`);
  } else {
    target('1M sessions save and load without error', null, `not in this run: \`${RERUN_MILLION}\``);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

const machineOf = (r) => r && (r.machine?.cpu ? `${r.machine.cpu}, ${r.machine.cores ?? r.machine.cpus} cores` : null);
const machine = machineOf(throughput) ?? machineOf(http) ?? machineOf(persistence) ?? 'unknown machine';
const node = throughput?.node ?? http?.node ?? persistence?.node ?? persistence?.machine?.node ?? 'unknown';
const dates = [
  throughput && `store API ${day(throughput.date)}`,
  http && `HTTP ${day(http.date)}`,
  persistence && `persistence ${day(persistence.date)}`,
].filter(Boolean);
const contention = (r) => (typeof r?.cpuContention === 'number' ? ` Some task waited for a CPU ${Math.round(r.cpuContention * 100)}% of the run.` : '');

const out = [];
out.push('<!-- Generated by bench/report.mjs from bench/results/*.json: do not edit by hand, rerun the benchmark. -->');
out.push('');
const minutes = [throughput, http, persistence].reduce((a, r) => a + (r?.durationMs ?? 0), 0) / 60_000;
out.push(`Measured on ${machine}, Node ${node} (${dates.join(', ')}). Rerun with \`${RERUN}\`` +
  (minutes ? ` (the benchmarks took ${Math.ceil(minutes)} minutes here)` : '') + '. ' +
  'Ratios are paired: ours divided by the other store in the same round, median over rounds. ' +
  'On a machine shared with other work, absolute numbers move from run to run; the ratios move much less.');
out.push('');
out.push('![Benchmark chart: HTTP paired ratios ours / store with raw requests per second, store API throughput ratios, persistence at 100k sessions](docs/benchmark.svg)');

if (throughput) {
  const p = throughput.params;
  const keys = Object.keys(throughput.stores);
  const isFloor = (k) => k.startsWith('floor');
  const ordered = ['ours', ...keys.filter((k) => k !== 'ours' && !isFloor(k)), ...keys.filter(isFloor)];
  const skipped = Object.values(throughput.skipped ?? {});
  for (const mode of ['awaited', 'inflight']) {
    out.push('');
    out.push(mode === 'awaited'
      ? `**Store API, awaited** (one call at a time, as one request makes them): calls per second, and in brackets how many times faster ours is.`
      : `**Store API, ${p.inflight} calls in flight** (as on a busy server): calls per second, and in brackets how many times faster ours is.`);
    out.push('');
    const rows = ordered.map((k) => {
      const s = throughput.stores[k];
      return [k === 'ours' ? `**${s.label}**` : s.label, ...OPS.map((op) => {
        const v = int(s[mode][op].median);
        const r = throughput.ratios?.[mode]?.[k]?.[op];
        return k === 'ours' ? `**${v}**` : r ? `${v} (${ratio(r.median)})` : v;
      })];
    });
    for (const s of skipped) rows.push([s.label, s.reason, '', '', '']);
    out.push(table(['store', ...OPS], rows, ['l']));
  }
  const slow = ordered.filter((k) => throughput.stores[k].ops && throughput.stores[k].ops < p.ops);
  out.push('');
  out.push(`${int(p.sessions)} sessions of ${p.sessionBytes} bytes of JSON in each store; ${int(p.ops)} calls per measurement` +
    (slow.length ? ` (${slow.map((k) => `${throughput.stores[k].label}: ${int(throughput.stores[k].ops)}`).join('; ')}: they are much slower)` : '') +
    `; ${p.rounds} rounds, median; ${p.clock} clock. The floors are a bare \`Map\` of JSON strings with expiry, the least work these semantics allow, calling back with process.nextTick or with setImmediate (as ours, MemoryStore and memorystore do).` +
    contention(throughput));
  const notes = [];
  for (const k of ordered) for (const a of throughput.stores[k].anomalies ?? []) notes.push(`${throughput.stores[k].label}: ${a}`);
  if (notes.length) {
    out.push('');
    out.push('Behaviour checks that failed (the store still ran; its numbers are for what it does):');
    out.push('');
    for (const n of notes) out.push(`- ${n}`);
  }
}

if (instructions) {
  const p = instructions.params;
  const ops = Object.keys(Object.values(instructions.stores)[0] ?? {});
  out.push('');
  out.push(`**Instructions per call** (valgrind's callgrind, \`npm --prefix bench run instructions:json\`, ${instructions.date.slice(0, 10)}): ` +
    'the same count run after run, where wall time here moves by 2x. Each call is followed by one turn of the event loop, ' +
    `as an awaited call; that turn alone (${int(instructions.eventLoopTurn)}) is subtracted, the store's own deferral of its callback is counted. ` +
    `${int(p.sessions)} sessions. In brackets, how many times more the store executes than ours. Baselines: JSON.parse of a stored ` +
    `session, ${int(instructions.baselines.parse)}, the least any get does (it must hand out a fresh object); JSON.stringify of a session, ` +
    `${int(instructions.baselines.stringify)}, what MemoryStore's and memorystore's set are made of (ours writes the cookie's part by hand).`);
  out.push('');
  const rows = Object.entries(instructions.stores).map(([k, byOp]) => [
    k === 'ours' ? `**${instructions.labels[k]}**` : instructions.labels[k] ?? k,
    ...ops.map((op) => (k === 'ours' ? `**${int(byOp[op])}**` : `${int(byOp[op])} (${ratio(byOp[op] / instructions.stores.ours[op])})`)),
  ]);
  out.push(table(['store', ...ops], rows, ['l']));
}

if (http) {
  const p = http.params;
  const sc = http.scenarios;
  out.push('');
  out.push(`**HTTP**: an express ${p.express} app with each store in its own process, loaded with autocannon ${p.autocannon} on loopback: ` +
    `${p.connections} keep-alive connections, each logged in with its own session; ${sc.map((s) => `*${s.key}* \`GET ${s.path}\` (${s.key === 'read' ? 'session unchanged: store.touch' : 'views++: store.set'})`).join(', ')}. ` +
    `Median of ${p.rounds} runs of ${p.durationS} s; latency in ms.` + contention(http) + ' ' +
    // What each row persists: the rows differ in durability as much as in speed, and ours is not memory only here.
    'What each store persists: ' + (p.memoryOnly ? 'ours and 1.7.1 nothing (memory only); ' : 'ours a snapshot file and the default journal (\'everysec\'), ' +
      '1.7.1 a file saved every minute; ') + 'session-file-store (an fsync per write) and SQLite (default: rollback journal, ' +
    'synchronous FULL; WAL: synchronous NORMAL, syncs at checkpoints) on disk; connect-redis on a redis-server without persistence.');
  out.push('');
  out.push(HTTP_WHY);
  out.push('');
  // The paired ratio is the headline (it is what the chart draws); the raw medians follow.
  const head = ['store', ...sc.map((s) => `**ours / store (${s.key})**`), ...sc.flatMap((s) => [`${s.key} req/s`, `${s.key} p99 ms`])];
  const bold = (k, v) => (k === 'ours' ? `**${v}**` : v);
  const rows = Object.entries(http.stores).map(([k, s]) => [
    bold(k, s.label),
    ...sc.map((x) => (k === 'ours' ? '' : http.ratios?.[x.key]?.[k] ? `**${ratio(http.ratios[x.key][k].median)}**` : '')),
    ...sc.flatMap((x) => [bold(k, int(s.scenarios[x.key].rps)), bold(k, dec(s.scenarios[x.key].p99Ms, 1))]),
  ]);
  for (const [k, why] of Object.entries(http.failed ?? {})) rows.push([k, `failed: ${why}`, ...head.slice(2).map(() => '')]);
  for (const s of Object.values(http.skipped ?? {})) rows.push([s.label, s.reason, ...head.slice(2).map(() => '')]);
  out.push(table(head, rows, ['l']));
  const warn = [];
  for (const s of Object.values(http.stores)) {
    for (const x of sc) {
      const r = s.scenarios[x.key];
      if (r.errors || r.non2xx) warn.push(`${s.label}, ${x.key}: ${r.errors} errors or timeouts, ${r.non2xx} answers other than 200`);
    }
  }
  if (warn.length) {
    out.push('');
    for (const w of warn) out.push(`- ${w}`);
  }
}

if (persistence) {
  out.push('');
  out.push('**Persistence**, ours next to express-memfilestore 1.7.1, each in a fresh process: the longest event-loop stall while a save runs ' +
    'and requests are served (get + touch), the save\'s duration, the file, the load at startup (and next to the floor), and the heap per session after a full GC next to the session\'s serialized size.');
  out.push('');
  const floorOf = (r) => (r.kind === 'ours' ? persistence.floorRatios?.[r.sessions] : undefined);
  const rows = persistence.results.map((r) => [
    int(r.sessions), r.kind === 'ours' ? '**express-memfilestore 2**' : 'express-memfilestore 1.7.1',
    num(r.loopDelayMaxMs, 1), num(r.durationMs), num(r.fileBytes / 1e6, 1), num(r.loadMs),
    floorOf(r) ? ratio(floorOf(r).median) : '–',
    num(r.heapPerSession), num(r.serializedPerSession),
    r.heapPerSession > 0 && r.serializedPerSession > 0 ? ratio(r.heapPerSession / r.serializedPerSession) : '–',
    r.error ? `failed: ${r.error}` : 'ok',
  ]);
  out.push(table(['sessions', 'store', 'longest stall ms', 'save ms', 'file MB', 'load ms', 'load / floor', 'heap B/session', 'serialized B/session', 'heap / serialized', 'result'],
    rows, ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']));
  out.push('');
  out.push('*load / floor*: our load time divided by the floor\'s on the same file, in the same run (read the whole file, check its ' +
    'SHA-256, decode each record into a `Map`: the least work a load does), paired, median. *heap / serialized*: heap per session ' +
    'after a full GC divided by the bytes of its id and JSON.');
}

out.push('');
out.push('**Targets** (issues 4 and 11), checked on these numbers:');
out.push('');
for (const t of targets) out.push(`- ${t.status}: ${t.name}: ${t.detail}.`);
const journalPart = journal ? journalMarkdown(journal) : { lines: [], targets: [] };
out.push(...journalPart.lines);
const markdown = out.join('\n');

// ---------------------------------------------------------------------------------------------------------------
// SVG chart

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const W = 960;
const LABEL_X = 300; // bars start here
const BAR_W = W - LABEL_X - 110;
const COLORS = { ours: '#1f6feb', a: '#2da44e', b: '#bf8700', c: '#8250df', grid: '#d0d7de', text: '#1f2328', muted: '#57606a' };
const parts = [];
let y = 0;

function heading(title, subtitle) {
  y += 34;
  parts.push(`<text x="20" y="${y}" class="h">${esc(title)}</text>`);
  if (subtitle) {
    y += 18;
    parts.push(`<text x="20" y="${y}" class="s">${esc(subtitle)}</text>`);
  }
  y += 10;
}

function legend(items) {
  let x = LABEL_X;
  y += 16;
  for (const [name, color] of items) {
    parts.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${x + 17}" y="${y}" class="l">${esc(name)}</text>`);
    x += 30 + name.length * 7;
  }
  y += 8;
}

/**
 * Grouped horizontal bars. rows: [{ label, bold, values: [number|null], text: [string] }]; scale: x => 0..1.
 * origin: the value bars start from (1 for ratios: a bar goes right of 1x when ours is faster, left when slower).
 */
function bars(rows, series, scale, ticks, origin) {
  const barH = 11;
  const gap = 3;
  const top = y + 6;
  const rowH = series.length * (barH + gap) + 9;
  const height = rows.length * rowH;
  for (const t of ticks) {
    const x = LABEL_X + scale(t.v) * BAR_W;
    parts.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${top + height}" stroke="${t.strong ? COLORS.muted : COLORS.grid}" stroke-width="${t.strong ? 1.5 : 1}"${t.strong ? '' : ' stroke-dasharray="3 3"'}/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${top + height + 14}" class="t" text-anchor="middle">${esc(t.label)}</text>`);
  }
  const x0 = LABEL_X + (origin === undefined ? 0 : scale(origin) * BAR_W);
  rows.forEach((row, i) => {
    const ry = top + i * rowH;
    const mid = ry + (series.length * (barH + gap)) / 2 + 3;
    if (row.bold) parts.push(`<rect x="10" y="${ry - 4}" width="${W - 20}" height="${rowH - 2}" fill="#ddf4ff" rx="4"/>`);
    parts.push(`<text x="${LABEL_X - 8}" y="${mid.toFixed(1)}" class="${row.bold ? 'lb' : 'l'}" text-anchor="end">${esc(row.label)}</text>`);
    series.forEach((s, j) => {
      const by = ry + j * (barH + gap);
      const v = row.values[j];
      if (v == null) {
        parts.push(`<text x="${LABEL_X + 4}" y="${by + barH - 1}" class="t">${esc(row.text?.[j] ?? 'not run')}</text>`);
        return;
      }
      const x1 = LABEL_X + scale(v) * BAR_W;
      const left = Math.min(x0, x1);
      const w = Math.max(1, Math.abs(x1 - x0));
      parts.push(`<rect x="${left.toFixed(1)}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${s.color}"><title>${esc(`${row.label}, ${s.name}: ${row.text[j]}`)}</title></rect>`);
      parts.push(`<text x="${(Math.max(x0, x1) + 5).toFixed(1)}" y="${by + barH - 1}" class="v">${esc(row.text[j])}</text>`);
    });
  });
  y = top + height + 22;
}

const shortLabel = (l) => l.replace(/^express-session /, '').replace(/ \(redis-server [^)]*\)/, '');

if (http?.ratios) {
  const sc = http.scenarios;
  const peers = Object.keys(http.stores).filter((k) => k !== 'ours' && sc.every((x) => http.ratios[x.key]?.[k]));
  const all = peers.flatMap((k) => sc.map((x) => http.ratios[x.key][k].median));
  const lo = Math.min(0.5, ...all);
  const hi = Math.max(2, ...all);
  const l0 = Math.log10(lo) - 0.05;
  // Room right of the longest bar for its secondary text (the raw medians).
  const l1 = Math.log10(hi) + 0.45;
  const scale = (v) => (Math.log10(v) - l0) / (l1 - l0);
  const ours = http.stores.ours;
  heading('HTTP: how many times the requests per second of ours (log scale; right of 1x: ours is faster)',
    `express ${http.params.express}, ${http.params.connections} keep-alive connections with a session each, autocannon on loopback; ` +
    `paired ratio, median of ${http.params.rounds} rounds; in grey, each store's own median req/s`);
  const series = sc.map((x, i) => ({ name: x.key === 'read' ? 'read (store.touch)' : x.key === 'modify' ? 'modify (store.set)' : x.key, color: [COLORS.a, COLORS.b, COLORS.c][i] }));
  legend(series.map((s) => [s.name, s.color]));
  const rows = peers.map((k) => ({
    label: `vs ${shortLabel(http.stores[k].label)}`,
    values: sc.map((x) => http.ratios[x.key][k].median),
    text: sc.map((x) => `${ratio(http.ratios[x.key][k].median)}  (${int(ours.scenarios[x.key].rps)} vs ${int(http.stores[k].scenarios[x.key].rps)} req/s)`),
  }));
  for (const s of Object.values(http.skipped ?? {})) rows.push({ label: `vs ${s.label}`, values: sc.map(() => null), text: [s.reason] });
  const ticks = [0.5, 1, 2, 5, 10, 100].filter((v) => v >= lo && v <= hi * 1.05).map((v) => ({ v, label: `${v}x`, strong: v === 1 }));
  bars(rows, series, scale, ticks, 1);
  y -= 6;
  parts.push(`<text x="20" y="${y}" class="c">${esc(HTTP_WHY_CHART)}</text>`);
  y += 16;
}

if (throughput?.ratios?.awaited) {
  const aw = throughput.ratios.awaited;
  const peers = Object.keys(aw);
  const all = peers.flatMap((k) => HOT.map((op) => aw[k][op].median));
  const lo = Math.min(0.5, ...all);
  const hi = Math.max(2, ...all);
  const l0 = Math.log10(lo) - 0.05;
  const l1 = Math.log10(hi) + 0.05;
  const scale = (v) => (Math.log10(v) - l0) / (l1 - l0);
  heading('Store API, awaited: how many times faster ours is (log scale; right of 1x: ours is faster)',
    `${int(throughput.params.sessions)} sessions of ${throughput.params.sessionBytes} B; paired ratios, median of ${throughput.params.rounds} rounds`);
  const series = HOT.map((op, i) => ({ name: op, color: [COLORS.ours, COLORS.a, COLORS.c][i] }));
  legend(series.map((s) => [s.name, s.color]));
  const rows = peers.map((k) => ({
    label: `vs ${shortLabel(throughput.stores[k].label)}`,
    values: HOT.map((op) => aw[k][op].median),
    text: HOT.map((op) => ratio(aw[k][op].median)),
  }));
  for (const s of Object.values(throughput.skipped ?? {})) rows.push({ label: `vs ${s.label}`, values: [null, null, null], text: [s.reason] });
  const ticks = [0.5, 1, 2, 5, 10, 100, 1000, 10000].filter((v) => v >= lo && v <= hi * 1.05)
    .map((v) => ({ v, label: `${v}x`, strong: v === 1 }));
  bars(rows, series, scale, ticks, 1);
}

if (persistence) {
  const n = 100_000;
  const ours = prow('ours', n);
  const old = prow('1.x', n);
  if (ours && old) {
    const metrics = [
      { key: 'loopDelayMaxMs', name: 'longest stall during a save' },
      { key: 'durationMs', name: 'save duration' },
      { key: 'loadMs', name: 'load at startup' },
    ];
    const values = metrics.flatMap((m) => [ours[m.key], old[m.key]]).filter((v) => typeof v === 'number' && v > 0);
    const lo = Math.min(1, ...values);
    const hi = Math.max(10, ...values);
    const l0 = Math.log10(lo) - 0.1;
    const l1 = Math.log10(hi) + 0.05;
    const scale = (v) => Math.max(0, (Math.log10(Math.max(v, lo)) - l0) / (l1 - l0));
    heading(`Persistence at ${int(n)} sessions: milliseconds (log scale; shorter is better)`, 'a save while serving requests, and the load at startup; each in a fresh process');
    const series = [{ name: 'express-memfilestore 2', color: COLORS.ours }, { name: 'express-memfilestore 1.7.1', color: COLORS.b }];
    legend(series.map((s) => [s.name, s.color]));
    const rows = metrics.map((m) => ({
      label: m.name,
      values: [ours, old].map((r) => (r.error || typeof r[m.key] !== 'number' ? null : r[m.key])),
      text: [ours, old].map((r) => (r.error || typeof r[m.key] !== 'number' ? 'failed' : `${num(r[m.key], r[m.key] < 10 ? 1 : 0)} ms`)),
    }));
    const ticks = [1, 10, 100, 1000, 10000, 100000].filter((v) => v >= lo && v <= hi * 1.05).map((v) => ({ v, label: `${int(v)} ms` }));
    bars(rows, series, scale, ticks);
  }
}

/** The next round number at or above `v`, for a chart's scale. */
function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

if (journal) journalChart(journal, { heading, legend, bars, niceCeil, colors: COLORS });

y += 6;
parts.push(`<text x="20" y="${y}" class="c">${esc(`${machine}, Node ${node}; ${dates.join(', ')}.`)}</text>`);
y += 16;
parts.push(`<text x="20" y="${y}" class="c">${esc(`Generated by bench/report.mjs from bench/results/*.json. Rerun: ${RERUN}`)}</text>`);
y += 14;


const svg = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" role="img" aria-labelledby="title">
<title id="title">express-memfilestore benchmark: ${esc(machine)}, Node ${esc(node)}</title>
<style>
  text { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; fill: ${COLORS.text}; }
  .h { font-size: 16px; font-weight: bold; }
  .s { font-size: 12px; fill: ${COLORS.muted}; }
  .l { font-size: 12px; }
  .lb { font-size: 12px; font-weight: bold; }
  .v { font-size: 11px; fill: ${COLORS.muted}; }
  .t { font-size: 10px; fill: ${COLORS.muted}; }
  .c { font-size: 11px; fill: ${COLORS.muted}; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
${parts.join('\n')}
</svg>
`;

// ---------------------------------------------------------------------------------------------------------------
// Write

if (toStdout) {
  console.log(markdown);
} else {
  const readme = readFileSync(README, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) {
    console.error(`README.md has no ${START} ... ${END} markers.`);
    process.exit(1);
  }
  writeFileSync(README, `${readme.slice(0, a + START.length)}\n${markdown}\n${readme.slice(b)}`);
  mkdirSync(new URL('docs/', ROOT), { recursive: true });
  writeFileSync(SVG_FILE, svg);
  console.log(`Wrote the benchmark section of ${README.pathname} and ${SVG_FILE.pathname}`);
}
console.log('\nTargets:');
for (const t of [...targets, ...journalPart.targets]) console.log(`  ${t.status.padEnd(7)} ${t.name}: ${t.detail}`);
