// Stryker's build step in its sandbox: opens the sandbox directory (created 0700) to other users, so the
// tests that run a child process as uid 65534 reach their scripts there, then builds as usual.
import { chmodSync } from 'node:fs';

chmodSync(process.cwd(), 0o755);
await import('./build.mjs');
