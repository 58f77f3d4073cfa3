// The client side of the HTTP benchmarks (http.mjs, journal.mjs): start http-server.mjs with one store in a child
// process, log in once per connection, load it with autocannon, ask it for its CPU time or its store's stats.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

/**
 * Starts the app with one store in a child process; resolves when it listens.
 * @param {string} key - the store (http-server.mjs's first argument)
 * @param {{ dir: string, prefill: number, extraArgs?: string[] }} options - `dir`: a temp directory for its files
 */
export function startServer(key, { dir, prefill, extraArgs = [] }) {
  const argv = [key, join(dir, key), '--prefill', String(prefill), ...extraArgs];
  const child = fork(new URL('./http-server.mjs', import.meta.url), argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${key}: the server did not start within 120 s`)), 120_000);
    child.once('message', (msg) => {
      clearTimeout(timer);
      resolve({ key, child, port: msg.port, label: msg.label });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${key}: the server exited (${code}) before it listened`));
    });
  });
}

export function stopServer(server) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
    server.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    server.child.send({ stop: true });
  });
}

/** Logs in `count` times; returns the cookie header of each session. */
export async function login(server, count) {
  const cookies = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`http://127.0.0.1:${server.port}/login`, { method: 'POST' });
    const setCookie = res.headers.get('set-cookie');
    await res.arrayBuffer();
    if (res.status !== 200 || !setCookie) throw new Error(`${server.key}: login answered ${res.status} without a cookie`);
    cookies.push(setCookie.split(';')[0]);
  }
  return cookies;
}

let asked = 0;
/** Sends `{ [kind]: id }` to the server and resolves with its answer carrying the same id. */
export function ask(server, kind) {
  const id = ++asked;
  return new Promise((resolve) => {
    const onMessage = (msg) => {
      if (msg?.[kind] !== id) return;
      server.child.off('message', onMessage);
      resolve(msg);
    };
    server.child.on('message', onMessage);
    server.child.send({ [kind]: id });
  });
}

/** The CPU time (µs) the server's process has used so far. */
export async function serverCpu(server) {
  return (await ask(server, 'cpu')).us;
}

/**
 * One autocannon run; every connection sends its own session's cookie (`server.cookies`). Latencies are kept to
 * the microsecond. Also the server's CPU time per request: steadier than req/s when other processes compete.
 */
export async function load(server, path, seconds, connections) {
  const cpu0 = await serverCpu(server);
  const result = await cannon(server, path, seconds, connections);
  const cpu1 = await serverCpu(server);
  result.cpuUsPerRequest = (cpu1 - cpu0) / result.requests;
  return result;
}

function cannon(server, path, seconds, connections) {
  let next = 0;
  const latencies = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: `http://127.0.0.1:${server.port}${path}`,
      connections,
      pipelining: 1,
      duration: seconds,
      setupClient(client) {
        client.setHeaders({ cookie: server.cookies[next++ % server.cookies.length] });
      },
    }, (err, result) => {
      if (err) return reject(err);
      latencies.sort((a, b) => a - b);
      const at = (q) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN;
      resolve({
        rps: result.requests.total / result.duration,
        requests: result.requests.total,
        p50: at(0.5),
        p99: at(0.99),
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
      });
    });
    instance.on('response', (client, statusCode, bytes, responseTime) => latencies.push(responseTime));
  });
}

export function median(list) {
  const s = [...list].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median of the per-round ratios xs[i] / ys[i] of two stores measured in the same rounds. */
export function pairedMedian(xs, ys) {
  return median(xs.map((x, i) => x / ys[i]));
}

/** Microseconds some task has waited for a CPU (Linux pressure stall information), or `undefined`. */
export function cpuPressureMicros() {
  try {
    const line = readFileSync('/proc/pressure/cpu', 'utf8').split('\n').find((l) => l.startsWith('some'));
    const total = /total=(\d+)/.exec(line ?? '');
    return total ? Number(total[1]) : undefined;
  } catch {
    return undefined;
  }
}
