// What one durable append costs on this disk, next to the same write over bytes already in the file: the floor under
// journal: 'always' (issue 9's awaited set against better-sqlite3 WAL + synchronous FULL, whose WAL file is rewritten
// in place once it has wrapped).
//
//   node sync-cost.mjs [--dir PATH] [--writes N] [--rounds N]
//
// Three files, each written record by record (414 bytes, the journal's mean record under the HTTP load), each write
// followed by fdatasync, synchronously, one process, nothing else:
//   append     the file grows with every write (as our journal does): ext4 then also commits the new size;
//   in place   the file was written full beforehand, the records overwrite it (as a reused SQLite WAL);
//   extended   the file's size was set ahead with ftruncate (a hole), the records fill it.
// Median µs per write + fdatasync over rounds, in alternation.
import { closeSync, fdatasyncSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './http-load.mjs';

const { values: args } = parseArgs({ options: { dir: { type: 'string', default: '.' }, writes: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' } } });
const WRITES = Number(args.writes);
const ROUNDS = Number(args.rounds);
const RECORD = Buffer.alloc(414, 'x');
const dir = mkdtempSync(join(args.dir, 'sync-cost-'));

const kinds = {
  append: () => {},
  'in place': (fd) => {
    const block = Buffer.alloc(1 << 20);
    for (let at = 0; at < WRITES * RECORD.length; at += block.length) writeSync(fd, block, 0, block.length, at);
    fdatasyncSync(fd);
  },
  extended: (fd) => {
    ftruncateSync(fd, WRITES * RECORD.length);
    fdatasyncSync(fd);
  },
};

function once(name, prepare) {
  const path = join(dir, name.replace(' ', '-'));
  const fd = openSync(path, 'w+', 0o600);
  try {
    prepare(fd);
    const t0 = process.hrtime.bigint();
    for (let i = 0, at = 0; i < WRITES; i++, at += RECORD.length) {
      writeSync(fd, RECORD, 0, RECORD.length, at);
      fdatasyncSync(fd);
    }
    return Number(process.hrtime.bigint() - t0) / WRITES / 1000;
  } finally {
    closeSync(fd);
    rmSync(path);
  }
}

const samples = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
try {
  for (let r = 0; r < ROUNDS; r++) for (const [name, prepare] of Object.entries(kinds)) samples[name].push(once(name, prepare));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${WRITES} writes of ${RECORD.length} bytes, each followed by fdatasync, median of ${ROUNDS} rounds, in ${args.dir}:`);
const base = median(samples.append);
for (const [name, list] of Object.entries(samples)) {
  console.log(`  ${name.padEnd(9)} ${median(list).toFixed(0).padStart(5)} µs per write + fdatasync (${(median(list) / base).toFixed(2)}x append)`);
}
