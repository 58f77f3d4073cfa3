/**
 * The Redis/Valkey connection, through the optional peer `redis` (node-redis, what connect-redis 9+ uses),
 * loaded only by the commands that talk to a server. It fails fast: node-redis's default is to reconnect
 * forever (a wrong password or a closed port would hang), so reconnection is off and the connect is bounded.
 * Commands go through `sendCommand`: the same calls work on node-redis 5 and 6, and commands issued in one
 * tick are pipelined by the client.
 */
import { CliError } from '../errors.js';
import { hideSecret } from '../redact.js';
import { EXPIRIES, refusesScripts, WRITE, type Script } from './scripts.js';
import type { Target } from './target.js';
import { loadNodeRedis, type CreateClient, type NodeRedisClient } from './load-node-redis.js';

const CONNECT_TIMEOUT_MS = 5_000;
/** The whole connect (TCP, TLS, HELLO/AUTH, SELECT) ends within this, server silent or not. */
const CONNECT_DEADLINE_MS = 6_000;

/** A connected server. */
export class RedisConnection {
  readonly #client: NodeRedisClient;
  readonly #target: Target;
  /** e.g. `[7, 0, 15]`; Valkey reports the Redis version it is compatible with. */
  readonly version: number[];
  readonly serverName: string;
  /** False once the server refused a script: plain pipelined commands from then on. */
  #scripts = true;
  /** Scripts sent once by their text on this connection. */
  readonly #loaded = new Set<string>();

  private constructor(client: NodeRedisClient, target: Target, info: string) {
    this.#client = client;
    this.#target = target;
    this.version = (/redis_version:([\d.]+)/.exec(info)?.[1] ?? '0').split('.').map(Number);
    this.serverName = /valkey_version:/.test(info) ? 'valkey' : 'redis';
  }

  /**
   * Loads node-redis and connects, failing within {@link CONNECT_DEADLINE_MS} with the server's word.
   * @throws CliError naming what to install when `redis` is missing; when the server cannot be reached, refuses, or is silent.
   */
  static async connect(target: Target): Promise<RedisConnection> {
    const createClient = await loadNodeRedis();
    try {
      try {
        return await RedisConnection.#open(createClient, target, { RESP: 2 });
      } catch (err) {
        // node-redis sends HELLO whenever RESP is set, and Redis before 6.0 has no HELLO. Without RESP, node-redis 5
        // authenticates with AUTH and SELECT, as the client connect-redis uses on such a server does (with its defaults).
        if (!/unknown command 'HELLO'/i.test((err as Error | undefined)?.message ?? '')) throw err;
        return await RedisConnection.#open(createClient, target, {});
      }
    } catch (err) {
      throw new CliError(`cannot connect to ${target.shown}: ${describe(err, target.password)}${trustHint(err)}. Nothing was changed`);
    }
  }

  /**
   * One connection attempt with `protocol` (node-redis's RESP option, or none), ending within {@link CONNECT_DEADLINE_MS}.
   * @throws the cause: the connect's rejection, else the last 'error' the client emitted.
   */
  static async #open(createClient: CreateClient, target: Target, protocol: { RESP?: 2 }): Promise<RedisConnection> {
    const client = createClient({
      url: target.url,
      ...protocol,
      disableOfflineQueue: true,
      socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: false },
    });
    let lastError: Error | undefined;
    // node-redis emits 'error' even when connect() rejects; without a listener the process would crash.
    client.on('error', (err) => {
      lastError = err;
    });
    let timer: NodeJS.Timeout | undefined;
    const handshake = async (): Promise<unknown> => {
      await client.connect();
      try {
        return await client.sendCommand(['INFO', 'server']);
      } catch (err) {
        // A least-privilege ACL user may lack INFO: an unknown version gets the commands every server has.
        if (err instanceof Error && err.message.startsWith('NOPERM')) return '';
        throw err;
      }
    };
    try {
      const info = await Promise.race([
        handshake(),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            reject(new Error(`no answer within ${CONNECT_DEADLINE_MS / 1000} s`));
          }, CONNECT_DEADLINE_MS);
        }),
      ]);
      const text = typeof info === 'string' ? info : '';
      // A cluster node's SCAN sees its own keys only: a read that met no CROSSSLOT refusal (one key per batch) imported
      // part of the sessions with exit 0, and --replace dropped the rest.
      if (/^(?:redis|server)_mode:cluster\r?$/m.test(text)) {
        throw new Error('it is a Redis Cluster node, which holds only part of the keys, and this command speaks to one ' +
          'standalone server: go through one (into a cluster, move the keys with redis-cli --cluster import)');
      }
      return new RedisConnection(client, target, text);
    } catch (err) {
      destroy(client);
      throw err instanceof Error ? err : lastError ?? new Error(String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the server has PEXPIRETIME (Redis 7.0+, every Valkey). */
  get hasAbsoluteExpiry(): boolean {
    return this.#atLeast(7, 0);
  }

  /** Whether SET takes PXAT (Redis 6.2+, every Valkey). */
  get hasPxat(): boolean {
    return this.#atLeast(6, 2);
  }

  send(args: string[]): Promise<unknown> {
    return this.#client.sendCommand(args);
  }

  /**
   * Sends the commands as one pipeline (no MULTI/EXEC) and waits for every reply, in order.
   * @throws the first error reply (the commands after it still ran on the server).
   */
  pipeline(commands: string[][]): Promise<unknown[]> {
    const multi = this.#client.multi();
    for (const args of commands) multi.addCommand(args);
    return multi.execAsPipeline();
  }

  /**
   * Writes each session as connect-redis would (`SET key value PXAT at`, with NX when `onlyNew`): one script call
   * where the server runs scripts, else one pipeline of SETs (PX from now on servers before 6.2).
   * @returns `kept`: the positions in `batch` of the keys NX left as they were; `late`: how much later than `at` a key
   * may expire, in ms (a PX is the time left when it is sent, and the SET may run up to the reply later; 0 for PXAT).
   * @throws the first error reply; the SETs before it stay written.
   */
  async write(batch: readonly { key: string; value: string; at: number }[], onlyNew: boolean): Promise<{ kept: number[]; late: number }> {
    if (this.hasPxat && this.#scripts) {
      const keys = new Array<string>(batch.length);
      const args = new Array<string>(2 * batch.length + 1);
      args[0] = onlyNew ? 'NX' : '-';
      for (const [i, { key, value, at }] of batch.entries()) {
        keys[i] = key;
        args[2 * i + 1] = value;
        args[2 * i + 2] = String(at);
      }
      const kept = await this.#evaluate(WRITE, keys, args);
      if (kept !== undefined) return { kept: (kept as number[]).map((i) => i - 1), late: 0 };
    }
    const now = Date.now();
    const replies = await this.pipeline(batch.map(({ key, value, at }) => {
      const expiry = this.hasPxat ? ['PXAT', String(at)] : ['PX', String(Math.max(1, at - now))];
      return onlyNew ? ['SET', key, value, ...expiry, 'NX'] : ['SET', key, value, ...expiry];
    }));
    const kept: number[] = [];
    for (const [i, reply] of replies.entries()) if (reply === null) kept.push(i);
    return { kept, late: this.hasPxat ? 0 : Date.now() - now };
  }

  /**
   * The value (null when missing or not a string) and absolute expiry (PEXPIRETIME: -1 none, -2 gone) of each key:
   * MGET and, pipelined with it, one script call for the expiries where the server runs scripts, else one
   * PEXPIRETIME per key (PTTL turned absolute with the local clock on servers before 7.0). `early`: how much earlier
   * than the key's expiry its reading may be, in ms (PTTL is added to the time it was sent, and may run up to the reply
   * later; 0 for PEXPIRETIME).
   */
  async readBack(keys: string[]): Promise<{ values: (string | null)[]; expiries: number[]; early: number }> {
    const mget = this.send(['MGET', ...keys]) as Promise<(string | null)[]>;
    // Awaited last: a rejection before then must not count as unhandled (which would end the process).
    mget.catch(() => undefined);
    let expiries: number[] | undefined;
    let early = 0;
    if (this.hasAbsoluteExpiry && this.#scripts) expiries = await this.#evaluate(EXPIRIES, keys, []) as number[] | undefined;
    if (expiries === undefined) {
      const sentAt = Date.now();
      const absolute = this.hasAbsoluteExpiry;
      const ttls = await this.pipeline(keys.map((key) => [absolute ? 'PEXPIRETIME' : 'PTTL', key]));
      if (!absolute) early = Date.now() - sentAt;
      expiries = ttls.map((t) => {
        const ms = Number(t);
        return absolute || ms < 0 ? ms : sentAt + ms;
      });
    }
    const values = await mget;
    for (let i = 0; i < values.length; i++) if (typeof values[i] !== 'string') values[i] = null;
    return { values, expiries, early };
  }

  /**
   * Runs `script`: its text the first time (EVAL caches it), by its SHA after that; its text again if the server
   * lost it meanwhile (NOSCRIPT: SCRIPT FLUSH, a restart). One connection runs commands in order, so a call sent
   * after the first EVAL finds the script cached even while that EVAL is still in flight.
   * @returns undefined when the server refuses scripts (remembered: the caller uses plain commands).
   */
  async #evaluate(script: Script, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      if (!this.#loaded.has(script.sha)) {
        this.#loaded.add(script.sha);
        return await this.send(['EVAL', script.source, ...tail]);
      }
      try {
        return await this.send(['EVALSHA', script.sha, ...tail]);
      } catch (err) {
        if (!/^NOSCRIPT/.test((err as Error).message)) throw err;
        return await this.send(['EVAL', script.source, ...tail]);
      }
    } catch (err) {
      if (!refusesScripts(err)) throw err;
      this.#scripts = false;
      return undefined;
    }
  }

  #atLeast(major: number, minor: number): boolean {
    const [m = 0, n = 0] = this.version;
    return m > major || (m === major && n >= minor);
  }

  /** An error message safe to print: the password hidden. */
  describe(err: unknown): string {
    return describe(err, this.#target.password);
  }

  async close(): Promise<void> {
    try {
      if (this.#client.close !== undefined) await this.#client.close();
      else if (this.#client.quit !== undefined) await this.#client.quit();
    } catch {
      destroy(this.#client);
    }
  }
}

function describe(err: unknown, password: string | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  // The server's own sentence ends with a period ("... user is disabled."): ours follows it after one of our own.
  return hideSecret(message === '' && err instanceof Error ? err.name : message, password)
    // "ERR unknown command 'X', with args beginning with: 'sess:<id>' ...": the arguments are keys and values.
    .replace(/(with args beginning with:).*/s, '$1 (not shown)')
    // OpenSSL's messages end with a line break ("...SSL alert number 116\n"): the CLI's errors are one line.
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\.+$/, '');
}

/** TLS errors that mean "no trusted root vouches for the server": the usual case of a private CA (a test or internal server). */
const UNTRUSTED = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

/**
 * What to do after a certificate error: how to trust a server's private CA; or, when the server asked for a client
 * certificate (redis-server's `tls-auth-clients yes`, its default with TLS on), that this command has none to give,
 * which OpenSSL's "alert certificate required" does not say. '' otherwise.
 */
function trustHint(err: unknown): string {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNTRUSTED.has(code)) {
    return ' (a server certificate from a private CA: give that CA\'s PEM file as NODE_EXTRA_CA_CERTS=<file>)';
  }
  if (/CERTIFICATE_REQUIRED/.test(String(code)) || /alert certificate required/i.test(String(message))) {
    return ' (the server requires a client certificate, which this command cannot present: allow clients without one ' +
      'while migrating, e.g. "tls-auth-clients optional" in redis.conf or valkey.conf)';
  }
  return '';
}

function destroy(client: NodeRedisClient): void {
  try {
    if (client.destroy !== undefined) client.destroy();
    else void client.disconnect?.().catch(() => undefined);
  } catch {
    // Already closed.
  }
}

/** The SCAN pattern matching every key that starts with `prefix` (glob characters escaped). */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}
