/** A failure the CLI reports in one line and turns into an exit code: 1 failed, 2 usage. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error (unknown command or flag, missing argument, bad URL scheme): exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
