/** The worker thread of session-checker.ts: checks each batch it is sent and sends the result back (its buffer moved, not copied). */
import { parentPort } from 'node:worker_threads';
import { checkValues } from './session-checker.js';

parentPort?.on('message', ({ id, values }: { id: number; values: string[] }) => {
  const result = checkValues(values);
  parentPort?.postMessage({ id, result }, [result.buffer as ArrayBuffer]);
});
