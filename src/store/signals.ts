/**
 * The `closeOnSignals` option: on SIGTERM/SIGINT, close every store that asked for it (a final save each),
 * then let the signal end the process.
 *
 * One handler per signal serves all stores, so two stores both finish their final save before the process
 * ends. It is prepended, so when it runs it sees every other listener: if the app has its own handler
 * for the signal, the app decides when to exit and the signal is not raised again.
 *
 * The handler stays on the signal until the stores are closed. signal-exit (the exit hooks of npm, write-file-atomic
 * and many more) raises the signal again at once when it finds itself the only listener: a handler that stepped aside
 * when it ran let it kill the process before the final snapshot was written. A repeat of the signal while the stores
 * close is ignored for the same reason (npm forwards a Ctrl-C that the terminal also sent): SIGKILL ends it at once.
 */
import { constants } from 'node:os';

type Closer = () => Promise<void>;

const closers = new Map<NodeJS.Signals, Set<Closer>>();
const handlers = new Map<NodeJS.Signals, () => void>();
/** Every handler of ours still on a signal, closing ones included: none of them is the app's. */
const ours = new Set<() => void>();

/**
 * Runs `close` when `signal` arrives. `close` must not reject (report its own errors).
 * @returns a function that cancels the registration.
 */
export function closeOnSignal(signal: NodeJS.Signals, close: Closer): () => void {
  let set = closers.get(signal);
  if (set === undefined) {
    const registered = new Set<Closer>();
    set = registered;
    closers.set(signal, registered);
    let closing = false;
    const handler = (): void => {
      if (closing) return;
      closing = true;
      void onSignal(signal, registered, handler);
    };
    handlers.set(signal, handler);
    ours.add(handler);
    process.prependListener(signal, handler);
  }
  const own = set;
  own.add(close);
  return () => {
    own.delete(close);
    const handler = handlers.get(signal);
    if (own.size > 0 || closers.get(signal) !== own || handler === undefined) return;
    process.removeListener(signal, handler);
    ours.delete(handler);
    closers.delete(signal);
    handlers.delete(signal);
  };
}

async function onSignal(signal: NodeJS.Signals, registered: Set<Closer>, handler: () => void): Promise<void> {
  // Stores created from now on register a handler of their own.
  closers.delete(signal);
  handlers.delete(signal);
  // signal-exit's listeners do not handle the signal: they wait for the others, then raise it again, as we do. Nor does
  // a handler of ours still closing the stores of an earlier signal, or one for stores created since.
  const appHandlesIt = process.listeners(signal).filter((listener) => !ours.has(listener as () => void)).length - signalExitListeners() > 0;
  await Promise.allSettled([...registered].map((close) => close()));
  // A final save that failed was reported as a process warning (no 'error' listener), which Node prints on the next
  // tick: raised at once, the signal ended the process before it, and the failure was said nowhere.
  await new Promise((resolve) => setImmediate(resolve));
  process.removeListener(signal, handler);
  ours.delete(handler);
  if (appHandlesIt) return;
  endBySignal(signal);
}

/** Ends the process as `signal` does, once no handler of it is left. */
export function endBySignal(signal: NodeJS.Signals): void {
  // pid 1 (node as a container's entry point) is not ended by a signal it raises without a handler: the kernel drops it,
  // and the process ran on with its stores closed until the runtime killed it. It exits as a shell reports that signal.
  if (process.pid === 1) process.exit(128 + (constants.signals[signal] ?? 0));
  process.kill(process.pid, signal);
}

/** The listeners signal-exit 3 and 4 keep on each signal: each loaded copy publishes its count for the others. */
function signalExitListeners(): number {
  const count = (emitter: unknown): number => {
    const value = (emitter as { count?: unknown } | undefined)?.count;
    return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
  };
  return count((globalThis as Record<symbol, unknown>)[Symbol.for('signal-exit emitter')]) +
    count((process as unknown as Record<string, unknown>).__signal_exit_emitter__);
}
