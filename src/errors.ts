/**
 * One error type for everything a user can cause or fix. The kind decides the process
 * exit code (docs/exit-codes.md); the code is a stable identifier scripts may match on.
 */
export const EXIT_CODES = {
  internal: 1,
  usage: 2,
  input: 3,
  verification: 4,
  preflight: 5,
  environment: 6,
  operation: 7,
  locked: 8,
  aborted: 10,
} as const;

export type ErrorKind = keyof typeof EXIT_CODES;

export interface KdeliverErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

export class KdeliverError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: KdeliverErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KdeliverError';
    this.kind = kind;
    this.code = code;
    this.hint = options.hint;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }

  toJSON(): { kind: ErrorKind; code: string; message: string; hint?: string } {
    return {
      kind: this.kind,
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }
}

export function isKdeliverError(value: unknown): value is KdeliverError {
  return value instanceof KdeliverError;
}

/** The message of any thrown value, for wrapping low-level failures into a KdeliverError. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
