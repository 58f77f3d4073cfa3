/**
 * Consecutive batches to one server, at most two waiting on it at a time. With one, node and the server take turns:
 * the server idles while node encodes the next batch or decodes the last reply, and node idles while the server runs
 * the batch. With two, each works while the other does, which on two cores is most of the gain left once a batch is
 * one command. Still bounded: nothing is queued behind a slow server, so node-redis 6's 5 s command timeout is never
 * reached, however many sessions there are (sending everything at once made 299,832 of 300,000 time out).
 */

const IN_FLIGHT = 2;

/** A batch failed; every batch before it had succeeded and been handed on. */
export class BatchError extends Error {
  /** Items of the batches done before the failing one. */
  readonly done: number;

  constructor(done: number, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.done = done;
  }
}

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Runs `work` on `items` in slices of `size`, and hands each result to `done` in order.
 * @throws BatchError at the first failure, after the batches still in flight have settled (none is started after it).
 */
export async function inBatches<T, R>(items: readonly T[], size: number, work: (slice: T[]) => Promise<R>,
  done: (result: R, slice: T[]) => void): Promise<void> {
  const pending: { slice: T[]; start: number; result: Promise<Settled<R>> }[] = [];
  let next = 0;
  while (next < items.length || pending.length > 0) {
    while (next < items.length && pending.length < IN_FLIGHT) {
      const slice = items.slice(next, next + size);
      pending.push({
        slice, start: next,
        result: work(slice).then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error })),
      });
      next += size;
    }
    const head = pending.shift() as (typeof pending)[number];
    const settled = await head.result;
    if (!settled.ok) {
      await Promise.all(pending.map((p) => p.result));
      throw new BatchError(head.start, settled.error);
    }
    done(settled.value, head.slice);
  }
}
