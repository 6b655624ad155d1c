/** The exit codes scripts may rely on (README, "The quarry CLI"). */
export const EXIT = {
  ok: 0,
  /** The query failed or was canceled, or the server refused the request. */
  failed: 1,
  usage: 2,
  unreachable: 3,
  auth: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure to report as one line on stderr, with the exit code it means. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** The Lens error code and HTTP status, when the server answered with an error. */
    readonly lens?: { code?: number; httpStatus: number },
  ) {
    super(message);
  }

  /** The one line printed on stderr. */
  line(): string {
    if (!this.lens) return `quarry: ${this.message}`;
    const code = this.lens.code === undefined ? '' : `Lens ${this.lens.code}, `;
    return `quarry: ${this.message} (${code}HTTP ${this.lens.httpStatus})`;
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
