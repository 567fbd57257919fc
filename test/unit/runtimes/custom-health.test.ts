import { describe, expect, it } from 'vitest';
import {
  customHealthOf,
  evaluateCustomHealth,
  parsePath,
  valueAt,
} from '../../../src/runtimes/kubernetes/custom-health.ts';
import type { SpecResource } from '../../../src/runtimes/runtime.ts';

const live = {
  status: {
    phase: 'Running',
    replicas: 2,
    conditions: [
      { type: 'Synced', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'Waiting' },
    ],
  },
};

function resource(health: unknown): SpecResource {
  return { id: 'x', type: 'Kubernetes', attributes: {}, extensions: { kdeliver: { health } } };
}

describe('custom health rules', () => {
  it('reads fields, list indexes and list items selected by a key', () => {
    expect(valueAt(live, 'status.phase')).toBe('Running');
    expect(valueAt(live, '.status.conditions[1].reason')).toBe('Waiting');
    expect(valueAt(live, 'status.conditions[type=Ready].status')).toBe('False');
    expect(valueAt(live, 'status.conditions[type="Synced"].status')).toBe('True');
    expect(valueAt(live, 'status.conditions[type=Gone].status')).toBeUndefined();
    expect(valueAt(live, 'spec.missing.deeper')).toBeUndefined();
    expect(() => parsePath('status..phase')).toThrow(/cannot parse/);
  });

  it('is failed when any failedWhen rule holds, healthy when all healthyWhen rules hold', () => {
    const rules = customHealthOf(
      resource({
        healthyWhen: [
          { path: 'status.phase', equals: 'Running' },
          { path: 'status.conditions[type=Ready].status', equals: 'True' },
        ],
        failedWhen: [{ path: 'status.phase', equals: 'Crashed' }],
      }),
    )!;
    expect(evaluateCustomHealth(live, rules)).toEqual({
      state: 'progressing',
      message: 'waiting for status.conditions[type=Ready].status to be "True" (is "False")',
    });
    const ready = { status: { ...live.status, conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(evaluateCustomHealth(ready, rules)).toEqual({ state: 'healthy' });
    expect(evaluateCustomHealth({ status: { phase: 'Crashed' } }, rules)).toEqual({
      state: 'failed',
      message: 'status.phase is "Crashed"',
    });
  });

  it('compares scalars by their text', () => {
    const rules = customHealthOf(resource({ healthyWhen: [{ path: 'status.replicas', equals: '2' }] }))!;
    expect(evaluateCustomHealth(live, rules).state).toBe('healthy');
  });

  it('has no rules without the extension, and rejects malformed ones with a user error', () => {
    expect(customHealthOf({ id: 'x', type: 'Kubernetes', attributes: {} })).toBeUndefined();
    expect(() => customHealthOf(resource({ healthyWhen: 'status.phase' }))).toThrow(
      /healthyWhen must be a list/,
    );
    expect(() => customHealthOf(resource({ healthyWhen: [{ path: 'a' }] }))).toThrow(
      /needs a string path and an equals/,
    );
    expect(() => customHealthOf(resource({ failedWhen: [{ path: 'a..b', equals: 1 }] }))).toThrow(
      /cannot parse/,
    );
    expect(() => customHealthOf(resource({}))).toThrow(
      expect.objectContaining({ code: 'K8S_HEALTH_RULE_INVALID' }),
    );
  });
});
