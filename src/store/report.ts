import type { EventEmitter } from 'node:events';
import { toError } from './callback.js';

/**
 * Reports a failure nobody called for (a timer, a user hook): `'error'` when someone listens, a process warning
 * otherwise. Never throws, so a background failure never crashes the host and is never silent.
 */
export function reportFailure(emitter: EventEmitter, err: Error): void {
  if (emitter.listenerCount('error') > 0) {
    try {
      emitter.emit('error', err);
      return;
    } catch (listenerErr) {
      err = toError(listenerErr);
    }
  }
  process.emitWarning(err);
}
