import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  RetryableError,
  withRetry,
  type RetryPolicy,
} from '../../../src/bundle/oci/retry.ts';

function fakeClock(random = 1): { policy: RetryPolicy; waits: number[] } {
  const waits: number[] = [];
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    attempts: 4,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    sleep: async (ms) => waits.push(ms),
    random: () => random,
    now: () => Date.parse('2026-01-01T00:00:00Z'),
  };
  return { policy, waits };
}

describe('retries', () => {
  it('backs off exponentially with jitter up to the cap', () => {
    const { policy } = fakeClock(1);
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const half = fakeClock(0.5).policy;
    expect(backoffDelay(2, half)).toBe(200);
  });

  it('parses Retry-After as seconds or a date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('honours Retry-After (capped) and stops after the last attempt', async () => {
    const { policy, waits } = fakeClock(1);
    let calls = 0;
    const failure = new Error('still failing');
    await expect(
      withRetry(async () => {
        calls++;
        throw new RetryableError(failure, calls === 1 ? 700 : calls === 2 ? 60_000 : undefined);
      }, policy),
    ).rejects.toBe(failure);
    expect(calls).toBe(4);
    expect(waits).toEqual([700, 1000, 400]);
  });

  it('does not retry other errors and returns the first success', async () => {
    const { policy, waits } = fakeClock();
    await expect(withRetry(async () => Promise.reject(new Error('fatal')), policy)).rejects.toThrow('fatal');
    let calls = 0;
    expect(
      await withRetry(async () => {
        if (++calls < 3) throw new RetryableError(new Error('flaky'));
        return 'ok';
      }, policy),
    ).toBe('ok');
    expect(waits).toHaveLength(2);
  });
});
