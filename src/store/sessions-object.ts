import type { StoredSession } from '../option-types.js';
import type { EntryCopy } from './lru-entries.js';

/**
 * The `all()` result: live sessions parsed into an object `{ [sid]: session }`, most recently used first (as
 * memorystore's forEach gave them). Throws what `parse` throws.
 */
export function sessionsObject({ ids, values }: EntryCopy, parse: (text: string) => unknown): Record<string, StoredSession> {
  const result: Record<string, StoredSession> = {};
  for (let i = ids.length - 1; i >= 0; i--) {
    // defineProperty: an id such as "__proto__" must become a key, not replace the prototype.
    Object.defineProperty(result, ids[i] as string, {
      value: parse(values[i] as string), enumerable: true, writable: true, configurable: true,
    });
  }
  return result;
}
