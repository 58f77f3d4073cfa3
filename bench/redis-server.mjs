// A private redis-server for the benchmark: started on a free loopback port, in a temp directory, with persistence
// off (--save '' --appendonly no), and stopped afterwards. Used by throughput.mjs and http.mjs for the connect-redis
// rows. When no redis-server is installed, startRedis() resolves to null and the rows say "skipped".
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The server binary and its version, or null when it is not installed: redis-server, or the one REDIS_SERVER_BIN
 * names (`valkey-server`: .ci/run runs the CLI's server tests a second time against Valkey).
 */
export function findRedisServer() {
  const bin = process.env.REDIS_SERVER_BIN || 'redis-server';
  const found = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) return null;
  return { bin, version: /v=([\d.]+)/.exec(found.stdout)?.[1] ?? 'unknown' };
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server (`args`: more redis-server options, e.g. `['--requirepass', pw]`). Resolves to `{ port, version, stop() }`, or to null when redis-server is not installed.
 * `stop()` ends the server this call started (by its pid) and removes its directory.
 */
export async function startRedis({ timeoutMs = 10_000, args = [] } = {}) {
  const found = findRedisServer();
  if (!found) return null;
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-bench-redis-'));
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(found.bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--protected-mode', 'yes', '--loglevel', 'warning', '--daemonize', 'no', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const ready = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const poll = setInterval(async () => {
        if (await ping(port)) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve(true);
        }
      }, 50);
      child.once('exit', () => {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(false);
      });
    });
    if (ready) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // If the benchmark ends without stop() (an exception), do not leave the server running.
      const killOnExit = () => {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      };
      process.once('exit', killOnExit);
      return {
        port,
        version: found.version,
        pid: child.pid,
        async stop() {
          process.removeListener('exit', killOnExit);
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(timer);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastError = output.trim().split('\n').pop();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`redis-server did not start: ${lastError}`);
}

/** True when a redis server answers PING on 127.0.0.1:port. */
function ping(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(500, () => { socket.destroy(); resolve(false); });
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      data += d;
      if (data.includes('\r\n')) {
        socket.destroy();
        // A server with a password answers -NOAUTH: up all the same.
        resolve(data.startsWith('+PONG') || data.startsWith('-NOAUTH'));
      }
    });
  });
}
