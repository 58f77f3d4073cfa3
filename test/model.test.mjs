// Model-based property test (issue 5, item 4; issue 9, item 6): random sequences of set, get, touch, destroy,
// clear, prune, clock advances, flush, graceful restart (close + a new store on the same file), crash (the
// snapshot and its journals as they stand are copied and a new store opened on the copy, the old store
// abandoned unclosed: what a kill -9 leaves), crash-after-save and crash between journal writes (the files
// copied synchronously right after a set, before the end of the turn writes its record), run against the real
// store (real files, injected clock, the `journal` option drawn per run: false, 'everysec' or 'always') and a
// small reference model. After every command the store's ids (most recently used first), length, all() and
// "unsaved changes" must equal the model's: zero divergences.
//
// The model: a Map id -> { json, expires } in LRU order (least recently used first), `max` and `ttl` (both
// drawn per run), the clock, and
// the state the file holds (the live entries at the last save that had something to save). Its rules come
// from the README: a session expires at its expiry millisecond; get/touch of an expired session removes it;
// length counts expired sessions not yet pruned; set with an expired cookie removes the session; touch
// never creates one; `max` evicts the least recently used; a save writes the live sessions in LRU order and
// happens only when something changed (reads are not changes); a load drops expired sessions.
// With a journal (src/files/journal-replay.ts), a crash loses no change whose record was written: the reload is the
// snapshot with the changes since it replayed: deleted sessions (destroys, overwrites with an expired cookie, and
// evictions by `max`, which are journaled as deletes) removed, changed sessions moved to the end in order of
// their last change (reads since the snapshot are not journaled), a clear forgetting everything before it; the
// reload counts as unsaved changes when the journal held any record. Without one, a crash loses every change
// since the last save. A crash between journal writes may lose the set whose record was not written yet: the
// reload must be the state before that set or after it (a prefix of the changes).
//
// MODEL_RUNS (default 100) sets the number of runs, MODEL_SEED the seed (fixed by default, so CI is
// repeatable). A failure prints the seed, the path and the shrunk command list with its replayPath:
// MODEL_SEED=<seed> MODEL_PATH=<path> MODEL_REPLAY=<replayPath> node --test test/model.test.mjs replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { MemFileStore } from 'express-memfilestore';
import { call, DAY, manualClock } from './fixtures/persist/helpers.mjs';

const RUNS = Number(process.env.MODEL_RUNS ?? 100);
const SEED = Number(process.env.MODEL_SEED ?? 20261127);
const START = Date.UTC(2030, 0, 1);

/** [what the caller passes, the session id it names]: numbers are ids too; tricky strings included. */
const IDS = [['a', 'a'], ['b', 'b'], ['c', 'c'], ['__proto__', '__proto__'], ['constructor', 'constructor'], ['', ''],
  ['ü🍪\nid', 'ü🍪\nid'], [1, '1'], ['1', '1']];

class Model {
  constructor(max, ttl, now, journal) {
    this.max = max;
    this.journal = journal;
    /** Changes since the last snapshot (journal): id -> 'put' | 'delete', in order of last change. */
    this.changed = new Map();
    /** A clear since the last snapshot: the replay forgets the snapshot. */
    this.cleared = false;
    /** Whether the journal holds a record since the last snapshot (a clear of an empty store writes one too). */
    this.journaled = false;
    this.ttl = ttl;
    this.now = now;
    /** id -> { json, expires }; Map order is LRU order, least recently used first. */
    this.entries = new Map();
    /** What the snapshot file holds: [id, { json, expires }] in LRU order, or null when no file was written. */
    this.saved = null;
    this.dirty = false;
  }

  isExpired(e) {
    return e.expires !== 0 && e.expires <= this.now;
  }

  live() {
    return [...this.entries].filter(([, e]) => !this.isExpired(e));
  }

  /** A change the journal records: `put` (set, touch) or `delete` (destroy, eviction). */
  journalChange(id, kind) {
    this.changed.delete(id);
    this.changed.set(id, kind);
    this.journaled = true;
  }

  /** Removes a session by a destroy (or a set with an expired cookie): a change and a journal record. */
  remove(id) {
    if (!this.entries.delete(id)) return;
    this.dirty = true;
    this.journalChange(id, 'delete');
  }

  put(id, json, lifetime) {
    if (lifetime <= 0) {
      this.remove(id);
      return;
    }
    this.entries.delete(id);
    this.entries.set(id, { json, expires: lifetime === Infinity ? 0 : this.now + lifetime });
    this.dirty = true;
    while (this.max > 0 && this.entries.size > this.max) {
      const evicted = this.entries.keys().next().value;
      this.entries.delete(evicted);
      this.journalChange(evicted, 'delete');
    }
    this.journalChange(id, 'put');
  }

  clear() {
    if (this.entries.size > 0) this.dirty = true;
    this.entries.clear();
    this.changed.clear();
    this.cleared = true;
    this.journaled = true;
  }

  /** A copy to fall back to (a crash that lost the last change). */
  clone() {
    const copy = Object.assign(Object.create(Model.prototype), this);
    copy.entries = new Map(this.entries);
    copy.changed = new Map(this.changed);
    return copy;
  }

  /** Becomes `other` (the model object itself is the one fast-check hands to every command). */
  become(other) {
    Object.assign(this, other);
  }

  /**
   * get/touch look-up: an expired entry is removed (a change); a live one becomes most recently used,
   * which is a change of the LRU order (kept in the file) unless it already was the most recent.
   */
  use(id) {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    const wasMostRecent = [...this.entries.keys()].pop() === id;
    this.entries.delete(id);
    if (this.isExpired(e)) {
      this.dirty = true;
      return undefined;
    }
    if (!wasMostRecent) this.dirty = true;
    this.entries.set(id, e);
    return e;
  }

  /** The `ttl` option (0: never expires), else the cookie's maxAge, else one day. */
  lifetime(maxAge) {
    if (typeof this.ttl === 'number') return this.ttl === 0 ? Infinity : this.ttl;
    return typeof maxAge === 'number' ? Math.floor(maxAge) : DAY;
  }

  /** A snapshot (flush, or `force`: the standalone one close() writes), absorbing the journal. */
  save(force = false) {
    if (!this.dirty && !(force && this.journal !== false)) return;
    this.saved = this.live();
    this.dirty = false;
    this.changed.clear();
    this.cleared = false;
    this.journaled = false;
  }

  /**
   * A new store reading the files: live entries of the last snapshot, then (journal) the changes since it
   * replayed, `max` applied; unsaved changes only when journal records were replayed.
   */
  load() {
    let order = this.journal !== false && this.cleared ? [] : (this.saved ?? []).filter(([, e]) => !this.isExpired(e));
    if (this.journal !== false) {
      order = order.filter(([id]) => !this.changed.has(id));
      for (const [id, kind] of this.changed) {
        const e = this.entries.get(id);
        if (kind === 'put' && e !== undefined && !this.isExpired(e)) order.push([id, e]);
      }
    }
    this.entries = new Map(order);
    while (this.max > 0 && this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value);
    this.dirty = this.journal !== false && this.journaled;
  }
}

const sessionWith = (maxAge, data) => ({ cookie: { originalMaxAge: maxAge, maxAge, httpOnly: true, path: '/' }, ...data });
const label = (raw) => (typeof raw === 'number' ? String(raw) : JSON.stringify(raw));

/** The real side: the store, its file, the clock, and the stores a crash abandoned. */
class Real {
  constructor(dir, max, ttl, clock, journal) {
    this.dir = dir;
    this.journal = journal;
    this.max = max;
    this.ttl = ttl;
    this.clock = clock;
    this.generation = 0;
    this.file = join(dir, 'sessions-0.db');
    this.abandoned = [];
    this.store = undefined;
  }

  async open() {
    this.store = new MemFileStore({ saveFile: this.file, savePeriod: 0, max: this.max, ttl: this.ttl, clock: this.clock.fn, journal: this.journal });
    await this.store.ready;
  }

  /**
   * What a kill -9 leaves, now, synchronously: the snapshot and its journals (`<file>.journal.<gen>`) as they
   * stand, copied under a new base name; the old store is dropped without close() (it keeps its lock on the
   * old path, as a dead process's lock stays behind). Call open() next.
   */
  crashCopy() {
    const copy = join(this.dir, `sessions-${++this.generation}.db`);
    const base = basename(this.file);
    for (const name of readdirSync(this.dir)) {
      if (name === base) copyFileSync(this.file, copy);
      else if (name.startsWith(`${base}.journal.`)) copyFileSync(join(this.dir, name), `${copy}${name.slice(base.length)}`);
    }
    this.abandoned.push(this.store);
    this.file = copy;
  }
}

/** Compares everything observable after each command. */
async function compare(model, real, after) {
  const { store } = real;
  const live = model.live();
  const ids = await call(store, 'ids');
  assert.deepEqual(ids, live.map(([id]) => id).reverse(), `${after}: ids (most recently used first)`);
  assert.equal(await call(store, 'length'), model.entries.size, `${after}: length (expired but not pruned still count)`);
  const all = await call(store, 'all');
  assert.equal(Object.getPrototypeOf(all), Object.prototype, `${after}: all() prototype`);
  assert.deepEqual(Object.keys(all).sort(), live.map(([id]) => id).sort(), `${after}: all() keys`);
  for (const [id, e] of live) {
    assert.equal(JSON.stringify(Object.getOwnPropertyDescriptor(all, id)?.value), e.json, `${after}: all()[${label(id)}]`);
  }
  assert.equal(store.stats.persistence.changesSinceSave > 0, model.dirty, `${after}: unsaved changes`);
}

class SetCommand {
  constructor(idIndex, maxAge, data) {
    [this.raw, this.id] = IDS[idIndex];
    this.maxAge = maxAge;
    this.data = data;
  }

  check() {
    return true;
  }

  async run(model, real) {
    const sess = sessionWith(this.maxAge, this.data);
    await call(real.store, 'set', this.raw, sess);
    model.put(this.id, JSON.stringify(sess), model.lifetime(this.maxAge));
    await compare(model, real, this.toString());
  }

  toString() {
    return `set(${label(this.raw)}, maxAge ${this.maxAge}, ${JSON.stringify(this.data)})`;
  }
}

class GetCommand {
  constructor(idIndex) {
    [this.raw, this.id] = IDS[idIndex];
  }

  check() {
    return true;
  }

  async run(model, real) {
    const got = await call(real.store, 'get', this.raw);
    const e = model.use(this.id);
    assert.equal(got === undefined ? undefined : JSON.stringify(got), e?.json, `${this}: the session returned`);
    await compare(model, real, this.toString());
  }

  toString() {
    return `get(${label(this.raw)})`;
  }
}

class TouchCommand {
  constructor(idIndex, maxAge) {
    [this.raw, this.id] = IDS[idIndex];
    this.maxAge = maxAge;
  }

  check() {
    return true;
  }

  async run(model, real) {
    const cookie = sessionWith(this.maxAge, {}).cookie;
    await call(real.store, 'touch', this.raw, { cookie, ignored: 'touch stores only the cookie' });
    const e = model.use(this.id);
    if (e !== undefined) {
      const sess = JSON.parse(e.json);
      sess.cookie = cookie;
      model.put(this.id, JSON.stringify(sess), model.lifetime(this.maxAge));
    }
    await compare(model, real, this.toString());
  }

  toString() {
    return `touch(${label(this.raw)}, maxAge ${this.maxAge})`;
  }
}

class DestroyCommand {
  constructor(idIndexes, asArray) {
    this.raws = idIndexes.map((i) => IDS[i][0]);
    this.ids = idIndexes.map((i) => IDS[i][1]);
    this.asArray = asArray || idIndexes.length !== 1;
  }

  check() {
    return true;
  }

  async run(model, real) {
    await call(real.store, 'destroy', this.asArray ? this.raws : this.raws[0]);
    for (const id of this.ids) model.remove(id);
    await compare(model, real, this.toString());
  }

  toString() {
    return `destroy(${this.asArray ? `[${this.raws.map(label).join(', ')}]` : label(this.raws[0])})`;
  }
}

class ClearCommand {
  check() {
    return true;
  }

  async run(model, real) {
    await call(real.store, 'clear');
    model.clear();
    await compare(model, real, this.toString());
  }

  toString() {
    return 'clear()';
  }
}

class PruneCommand {
  check() {
    return true;
  }

  async run(model, real) {
    real.store.prune();
    for (const [id, e] of [...model.entries]) {
      if (model.isExpired(e)) {
        model.entries.delete(id);
        model.dirty = true;
      }
    }
    await compare(model, real, this.toString());
  }

  toString() {
    return 'prune()';
  }
}

class AdvanceCommand {
  constructor(ms) {
    this.ms = ms;
  }

  check() {
    return true;
  }

  async run(model, real) {
    real.clock.now += this.ms;
    model.now += this.ms;
    await compare(model, real, this.toString());
  }

  toString() {
    return `advance(${this.ms} ms)`;
  }
}

class FlushCommand {
  check() {
    return true;
  }

  async run(model, real) {
    await real.store.flush();
    model.save();
    await compare(model, real, this.toString());
  }

  toString() {
    return 'flush()';
  }
}

class RestartCommand {
  check() {
    return true;
  }

  async run(model, real) {
    await real.store.close();
    model.save(true);
    await real.open();
    model.load();
    await compare(model, real, this.toString());
  }

  toString() {
    return 'graceful restart';
  }
}

class CrashCommand {
  constructor(afterSave) {
    this.afterSave = afterSave;
  }

  check() {
    return true;
  }

  async run(model, real) {
    if (this.afterSave) {
      await real.store.flush();
      model.save();
    }
    real.crashCopy();
    await real.open();
    model.load();
    await compare(model, real, this.toString());
  }

  toString() {
    return this.afterSave ? 'crash after save' : 'crash';
  }
}

/** Outcomes of the crashes between journal writes, for the diagnostic line. */
const midTurn = { lastChangeKept: 0, lastChangeLost: 0 };

/** A set, then a crash in the same turn. */
class CrashMidTurnCommand extends SetCommand {
  async run(model, real) {
    const sess = sessionWith(this.maxAge, this.data);
    const before = model.clone();
    // The files are copied in the same turn as the set, before its record is written at the end of the turn.
    const acknowledged = call(real.store, 'set', this.raw, sess);
    real.crashCopy();
    await acknowledged;
    model.put(this.id, JSON.stringify(sess), model.lifetime(this.maxAge));
    await real.open();
    // The reload is a prefix of the changes: with the set, or without it.
    const after = model.clone();
    after.load();
    before.load();
    try {
      model.become(after);
      await compare(model, real, `${this} (the set kept)`);
      midTurn.lastChangeKept++;
    } catch (keptErr) {
      model.become(before);
      try {
        await compare(model, real, `${this} (the set lost)`);
      } catch (lostErr) {
        throw new AggregateError([keptErr, lostErr], `${this}: the reload is neither the state with the set nor the state without it`, { cause: lostErr });
      }
      midTurn.lastChangeLost++;
    }
  }

  toString() {
    return `crash between journal writes, right after set(${label(this.raw)}, maxAge ${this.maxAge}, ${JSON.stringify(this.data)})`;
  }
}

const idIndex = fc.nat({ max: IDS.length - 1 });
const maxAge = fc.oneof(
  fc.constantFrom(null, 0, -1, 1, 1000, 60_000, 3_600_000, 1500.75),
  fc.integer({ min: -1000, max: 7_200_000 }),
);
const data = fc.record({ n: fc.integer(), s: fc.string({ unit: 'binary', maxLength: 6 }) }, { requiredKeys: ['n'] });
const advance = fc.oneof(fc.constantFrom(0, 1, 999, 1000, 60_000, 3_600_000, DAY), fc.integer({ min: 0, max: 7_200_000 }));

const COMMANDS = [
  fc.tuple(idIndex, maxAge, data).map(([i, m, d]) => new SetCommand(i, m, d)),
  fc.tuple(idIndex, maxAge, data).map(([i, m, d]) => new SetCommand(i, m, d)),
  idIndex.map((i) => new GetCommand(i)),
  idIndex.map((i) => new GetCommand(i)),
  fc.tuple(idIndex, maxAge).map(([i, m]) => new TouchCommand(i, m)),
  fc.tuple(fc.array(idIndex, { minLength: 1, maxLength: 3 }), fc.boolean()).map(([is, a]) => new DestroyCommand(is, a)),
  fc.constant(new ClearCommand()),
  fc.constant(new PruneCommand()),
  advance.map((ms) => new AdvanceCommand(ms)),
  advance.map((ms) => new AdvanceCommand(ms)),
  fc.constant(new FlushCommand()),
  fc.constant(new RestartCommand()),
  fc.boolean().map((afterSave) => new CrashCommand(afterSave)),
  fc.tuple(idIndex, maxAge, data).map(([i, m, d]) => new CrashMidTurnCommand(i, m, d)),
];

test(`the store behaves as the reference model (${RUNS} runs, seed ${SEED})`, { timeout: 600_000 }, async (t) => {
  let commandsRun = 0;
  const ttlOption = fc.constantFrom(undefined, undefined, 0, 90_000);
  const journalOption = fc.constantFrom(false, 'everysec', 'always');
  const runsByJournal = { false: 0, everysec: 0, always: 0 };
  const property = fc.asyncProperty(fc.constantFrom(0, 2, 4), ttlOption, journalOption, fc.commands(COMMANDS, { maxCommands: 60, size: 'max', replayPath: process.env.MODEL_REPLAY }), async (max, ttl, journal, cmds) => {
    const dir = mkdtempSync(join(tmpdir(), 'memfilestore-model-'));
    const clock = manualClock(START);
    const real = new Real(dir, max, ttl, clock, journal);
    try {
      await fc.asyncModelRun(async () => {
        await real.open();
        return { model: new Model(max, ttl, START, journal), real };
      }, cmds);
      commandsRun += [...cmds].length;
      runsByJournal[String(journal)]++;
    } finally {
      for (const store of [...real.abandoned, real.store]) await store?.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const params = { numRuns: RUNS, seed: SEED };
  if (process.env.MODEL_PATH) params.path = process.env.MODEL_PATH;
  await fc.assert(property, params);
  t.diagnostic(`${RUNS} runs (journal false ${runsByJournal.false}, everysec ${runsByJournal.everysec}, always ${runsByJournal.always}), ` +
    `${commandsRun} commands compared against the model, 0 divergences (seed ${SEED}); crashes between journal writes: ` +
    `last change kept ${midTurn.lastChangeKept}, lost ${midTurn.lastChangeLost}`);
});

test('a graceful restart keeps the recency of reads made since the last save (README: close() loses nothing, LRU order is kept)', async (t) => {
  // The model above follows the implementation here: reads do not count as changes, so close() after
  // reads only writes nothing, and the order they made is lost. With `max`, that order decides which
  // sessions survive the next evictions.
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-model-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sessions.db');
  const clock = manualClock(START);
  const first = new MemFileStore({ saveFile: file, savePeriod: 0, max: 2, clock: clock.fn });
  await call(first, 'set', 'old', sessionWith(60_000, { user: 'active user' }));
  await call(first, 'set', 'new', sessionWith(60_000, { user: 'idle user' }));
  await first.flush();
  await call(first, 'get', 'old'); // the active user comes back: now most recently used
  assert.deepEqual(await call(first, 'ids'), ['old', 'new']);
  await first.close();
  const second = new MemFileStore({ saveFile: file, savePeriod: 0, max: 2, clock: clock.fn });
  t.after(() => second.close());
  await second.ready;
  assert.deepEqual(await call(second, 'ids'), ['old', 'new'], 'the order before close() is the order after');
});
