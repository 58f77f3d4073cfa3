/**
 * node-redis, the optional peer dependency the commands that talk to a server load when they run (client.ts): found
 * as `redis` resolves it, with a message that says what to install when it is missing.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliError } from '../errors.js';

/** The part of a node-redis client this tool uses. */
export interface NodeRedisClient {
  on(event: 'error', listener: (err: Error) => void): unknown;
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  multi(): { addCommand(args: string[]): unknown; execAsPipeline(): Promise<unknown[]> };
  close?: () => Promise<unknown>;
  quit?: () => Promise<unknown>;
  destroy?: () => unknown;
  disconnect?: () => Promise<unknown>;
}

export type CreateClient = (options: object) => NodeRedisClient;
type ClientModule = { createClient?: unknown; default?: { createClient?: unknown } };

/**
 * node-redis, an optional peer dependency: a clear message when it is not installed.
 *
 * The client is taken from `@redis/client` as `redis` itself resolves it (its own dependency, so the version `redis`
 * pins): `redis` adds modules (JSON, search, time series, bloom) this tool never uses, and loading them cost about a
 * third of node-redis's load time, paid by every migrate and import. Where that resolution fails, `redis` itself.
 */
export async function loadNodeRedis(): Promise<CreateClient> {
  const require = createRequire(__filename);
  let entry: string;
  try {
    entry = require.resolve('redis');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError('this command needs the "redis" package (node-redis), an optional peer dependency: ' +
        'run "npm install redis@5" (Node 20) or "npm install redis@6" (Node 22+) in your app, then run it again');
    }
    throw err;
  }
  // node-redis 3 and older (connect-redis 5 and 6 used them) have no connect() and open their socket as soon as the
  // client is made: the connect failed, the socket stayed open, and the command hung after its error. Refused first.
  const version = installedVersion(entry);
  if (version !== undefined && Number(version.split('.')[0]) < 4) {
    throw new CliError(`the installed "redis" package is ${version}, which this command cannot use (it needs node-redis 5 ` +
      'or 6): run "npm install redis@5" (Node 20) or "npm install redis@6" (Node 22+) in your app, then run it again');
  }
  let create = createClientOf(await importFrom(entry, '@redis/client'));
  create ??= createClientOf(await importFrom(undefined, entry));
  if (create === undefined) throw new CliError('the installed "redis" package has no createClient: install redis@5 or redis@6');
  return create;
}

/** The version in the package.json of the `redis` package whose entry point is `entry`; undefined when not found. */
function installedVersion(entry: string): string | undefined {
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    let pkg: { name?: unknown; version?: unknown } | undefined;
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg;
    } catch {
      // None here (or not JSON): look further up.
    }
    if (pkg?.name === 'redis') return typeof pkg.version === 'string' ? pkg.version : undefined;
    if (dirname(dir) === dir) return undefined;
  }
}

/** `specifier` as the module at `from` would import it (as is when `from` is undefined); undefined when it cannot be found. */
async function importFrom(from: string | undefined, specifier: string): Promise<ClientModule | undefined> {
  let path: string;
  try {
    path = from === undefined ? specifier : createRequire(from).resolve(specifier);
  } catch {
    return undefined;
  }
  return (await import(pathToFileURL(path).href)) as ClientModule;
}

function createClientOf(mod: ClientModule | undefined): CreateClient | undefined {
  const create = mod?.createClient ?? mod?.default?.createClient;
  return typeof create === 'function' ? create as CreateClient : undefined;
}
