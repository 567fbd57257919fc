/**
 * When a Kubernetes request may be sent again: throttling, server-side failures and
 * dropped connections (an API server restarting) are transient; everything else is an
 * answer. The policy is bounded by elapsed time so a dead cluster fails in finite time.
 */
export interface RetryPolicy {
  /** Give up once this much time has passed since the first attempt. */
  maxElapsedMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxElapsedMs: 60_000,
  initialDelayMs: 200,
  maxDelayMs: 5_000,
};

const RETRYABLE_CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  // A socket the server closed before answering (node reports it without an errno).
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * 429 and the gateway-style 5xx are transient. A plain 500 is retried only when the
 * server asks for it with Retry-After: the API server also answers 500 to permanent
 * problems, e.g. a server-side apply of a field the schema does not declare.
 */
export function isRetryableStatus(status: number, retryAfter: number | undefined): boolean {
  if (status === 500) return retryAfter !== undefined;
  return status === 429 || status > 500;
}

export function isRetryableConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && RETRYABLE_CONNECTION_CODES.has(code)) return true;
  return error.message === 'socket hang up';
}

/**
 * The wait before attempt `attempt + 1` (attempt counts from 0): exponential with full
 * jitter, or the server's Retry-After when it sent one.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== undefined && retryAfterSeconds >= 0) {
    return Math.min(retryAfterSeconds * 1000, policy.maxDelayMs);
  }
  const ceiling = Math.min(policy.initialDelayMs * 2 ** attempt, policy.maxDelayMs);
  return Math.max(policy.initialDelayMs / 2, Math.round(ceiling * random()));
}

export function parseRetryAfter(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds : undefined;
}
