// The heap of a long-running process after a churn of sessions (created, read, touched, destroyed, expired, evicted by
// max and maxSize) with snapshots every few ms: once warmed up it must not grow with the number of operations (no
// queue, hook list, held record or callback kept per change). A generous bound: what a leak of a few dozen bytes per
// operation would pass. Each mode in a child of its own with --expose-gc (scripts/soak.mjs runs the same for millions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/persist/helpers.mjs';
import { runNode } from './fixtures/faults/lib.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/memory/churn-child.mjs', import.meta.url));
const MIB = 1024 * 1024;

// 'always' syncs every turn: fewer operations keep it as fast as the others.
for (const [mode, ops] of [['everysec', 120_000], ['always', 40_000], ['false', 120_000], ['none', 120_000]]) {
  test(`heap after ${ops} operations, journal ${mode === 'none' ? 'none (memory only)' : mode}: no growth once warmed up`, { timeout: 60_000 }, async (t) => {
    const { code, stdout, stderr } = await runNode(['--expose-gc', CHILD, tempDir(t), mode, ops], { timeout: 50_000 });
    assert.equal(code, 0, stderr);
    const { warm, end, sessions, pending, saves } = JSON.parse(stdout);
    assert.ok(end - warm < 2 * MIB, `heap grew by ${((end - warm) / MIB).toFixed(1)} MiB over ${ops * 0.75} operations`);
    assert.ok(sessions <= 2000);
    assert.equal(pending, 0, 'changes still waiting for the journal');
    if (mode !== 'none') assert.ok(saves >= 5, `only ${saves} snapshots during the churn`);
  });
}
