/**
 * Retries with exponential backoff and full jitter, honouring a server's Retry-After.
 * The clock and the random source are injectable so tests need not wait.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number) => Promise<unknown>;
  random: () => number;
  /** The wall clock, for Retry-After given as an HTTP date. */
  now: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  sleep: (ms) => sleep(ms),
  random: Math.random,
  now: Date.now,
};

/** A failure worth another attempt, with the delay the server asked for, if any. */
export class RetryableError extends Error {
  readonly retryAfterMs: number | undefined;
  readonly final: Error;

  constructor(final: Error, retryAfterMs?: number) {
    super(final.message, { cause: final });
    this.name = 'RetryableError';
    this.final = final;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Retry-After is either delay seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before retry number `retry` (0-based): full jitter over a doubling window. */
export function backoffDelay(retry: number, policy: RetryPolicy, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(policy.random() * window);
}

/**
 * Runs `operation` until it succeeds, throws something other than RetryableError, or
 * runs out of attempts; then throws the last underlying error.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (error: Error, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      if (attempt + 1 >= policy.attempts) throw error.final;
      const delay = backoffDelay(attempt, policy, error.retryAfterMs);
      onRetry?.(error.final, delay);
      await policy.sleep(delay);
    }
  }
}
