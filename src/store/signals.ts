/**
 * The `closeOnSignals` option: on SIGTERM/SIGINT, close every store that asked for it (a final save each),
 * then let the signal end the process.
 *
 * One handler per signal serves all stores, so two stores both finish their final save before the process
 * ends. It is prepended, so when it runs it sees every other listener: if the app has its own handler
 * for the signal, the app decides when to exit and the signal is not raised again.
 */
type Closer = () => Promise<void>;

const closers = new Map<NodeJS.Signals, Set<Closer>>();
const handlers = new Map<NodeJS.Signals, () => void>();

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
    const handler = (): void => {
      void onSignal(signal, registered, handler);
    };
    handlers.set(signal, handler);
    process.prependListener(signal, handler);
  }
  const own = set;
  own.add(close);
  return () => {
    own.delete(close);
    const handler = handlers.get(signal);
    if (own.size > 0 || closers.get(signal) !== own || handler === undefined) return;
    process.removeListener(signal, handler);
    closers.delete(signal);
    handlers.delete(signal);
  };
}

async function onSignal(signal: NodeJS.Signals, registered: Set<Closer>, handler: () => void): Promise<void> {
  process.removeListener(signal, handler);
  closers.delete(signal);
  handlers.delete(signal);
  const appHandlesIt = process.listenerCount(signal) > 0;
  await Promise.allSettled([...registered].map((close) => close()));
  if (!appHandlesIt) process.kill(process.pid, signal);
}
