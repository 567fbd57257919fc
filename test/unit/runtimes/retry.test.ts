import { describe, expect, it } from 'vitest';
import {
  isRetryableConnectionError,
  isRetryableStatus,
  parseRetryAfter,
  retryDelayMs,
} from '../../../src/runtimes/kubernetes/retry.ts';

const policy = { maxElapsedMs: 10_000, initialDelayMs: 200, maxDelayMs: 5_000 };

describe('Kubernetes retry policy', () => {
  it('retries throttling and gateway failures, and a 500 only when the server asks', () => {
    expect([429, 502, 503, 504].map((s) => isRetryableStatus(s, undefined))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(isRetryableStatus(500, undefined)).toBe(false);
    expect(isRetryableStatus(500, 1)).toBe(true);
    expect([400, 404, 409, 422].some((s) => isRetryableStatus(s, undefined))).toBe(false);
  });

  it('retries dropped and refused connections, not other errors', () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    expect(isRetryableConnectionError(errno('ECONNREFUSED'))).toBe(true);
    expect(isRetryableConnectionError(errno('ECONNRESET'))).toBe(true);
    expect(isRetryableConnectionError(new Error('socket hang up'))).toBe(true);
    expect(isRetryableConnectionError(errno('CERT_HAS_EXPIRED'))).toBe(false);
    expect(isRetryableConnectionError('ECONNREFUSED')).toBe(false);
  });

  it('backs off exponentially up to the cap, and honours Retry-After', () => {
    expect([0, 1, 2, 3, 10].map((attempt) => retryDelayMs(policy, attempt, undefined, () => 1))).toEqual([
      200, 400, 800, 1600, 5000,
    ]);
    expect(retryDelayMs(policy, 5, undefined, () => 0)).toBe(100);
    expect(retryDelayMs(policy, 0, 2)).toBe(2000);
    expect(retryDelayMs(policy, 0, 60)).toBe(5000);
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(['4'])).toBe(4);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
