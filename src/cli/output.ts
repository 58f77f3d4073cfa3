/**
 * Where the CLI's words go: results on stdout (one line, or one JSON object with `--json`), messages and
 * progress on stderr. Progress is drawn only on a terminal, never with `--quiet`; colour only on a terminal
 * that has colours, never with `NO_COLOR` (even empty, as Node's hasColors) or `--no-color`.
 */

/** The streams and environment the CLI runs with; tests pass their own. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; hasColors?: (count?: number) => boolean };
  env: NodeJS.ProcessEnv;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
}

/** A progress line; every method is a no-op when progress is not shown. */
export interface Progress {
  tick(count?: number): void;
  done(): void;
}

/** `n` with "session" or "sessions", for the results a person reads ("exported 1 session"). */
export function sessionCount(n: number): string {
  return `${n} session${n === 1 ? '' : 's'}`;
}

const FRAME_MS = 100;
const SHOW_AFTER_MS = 300;
const BAR = 24;

export class Output {
  readonly #io: Io;
  readonly #opts: OutputOptions;
  readonly #color: boolean;
  readonly #mask: (text: string) => string;

  /** @param mask - hides what must never be printed (passwords of URLs among the arguments) in every message. */
  constructor(io: Io, opts: OutputOptions, mask: (text: string) => string = (text) => text) {
    this.#io = io;
    this.#opts = opts;
    this.#mask = mask;
    const err = io.stderr;
    this.#color = opts.color && err.isTTY === true && io.env.NO_COLOR === undefined &&
      typeof err.hasColors === 'function' && err.hasColors();
  }

  get json(): boolean {
    return this.#opts.json;
  }

  /** The command's result: `text` for people, `data` (one JSON object) with `--json`. */
  result(text: string, data: object): void {
    this.#io.stdout.write(this.#mask(this.#opts.json ? `${JSON.stringify({ ok: true, ...data })}\n` : `${text}\n`));
  }

  /**
   * Writes raw text on stdout (export to `-`); settles once it is written, so a caller that awaits each write holds
   * at most one chunk in memory. Rejects with the write's error.
   */
  raw(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#io.stdout.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  get stdout(): Io['stdout'] {
    return this.#io.stdout;
  }

  /** A note for people on stderr; silenced by `--quiet`. */
  info(message: string): void {
    if (!this.#opts.quiet) this.#io.stderr.write(`${this.#mask(message)}\n`);
  }

  /** A warning on stderr, shown even with `--quiet`. */
  warn(message: string): void {
    this.#io.stderr.write(`${this.#paint('33', 'warning:')} ${this.#mask(message)}\n`);
  }

  /** The failure of the command: on stderr, and with `--json` also as one object on stdout. */
  error(text: string, exitCode: number): void {
    const message = this.#mask(text);
    this.#io.stderr.write(`${this.#paint('31', 'error:')} ${message}\n`);
    if (this.#opts.json) {
      this.#io.stdout.write(`${JSON.stringify({ ok: false, error: { exitCode, message } })}\n`);
    }
  }

  /** A progress line for `total` items on stderr: count, rate and a bar, at most 10 times a second. */
  progress(label: string, total: number): Progress {
    const err = this.#io.stderr;
    if (this.#opts.quiet || err.isTTY !== true) return { tick: noop, done: noop };
    const started = performance.now();
    let count = 0;
    let drawnAt = 0;
    let drawn = false;
    const draw = (): void => {
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? Math.round(count / seconds) : 0;
      const filled = total > 0 ? Math.min(BAR, Math.round((count / total) * BAR)) : 0;
      err.write(`\r\x1b[K${label} [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${count}/${total} ${rate}/s`);
      drawn = true;
    };
    return {
      tick(n = 1) {
        count += n;
        const now = performance.now();
        if (now - started < SHOW_AFTER_MS || now - drawnAt < FRAME_MS) return;
        drawnAt = now;
        draw();
      },
      done() {
        if (drawn) err.write('\r\x1b[K');
      },
    };
  }

  #paint(code: string, text: string): string {
    return this.#color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}

function noop(): void {
  // Progress not shown.
}
