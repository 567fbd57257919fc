import { describe, expect, it } from 'vitest';
import { stackKey } from '../../../src/state/system-namespace.ts';

describe('stackKey', () => {
  it('keeps DNS-label stack names as they are', () => {
    expect(stackKey('prod')).toBe('prod');
    expect(stackKey('eu-west-1')).toBe('eu-west-1');
  });

  it('cleans other names and adds a digest so distinct stacks stay distinct', () => {
    expect(stackKey('Prod')).toMatch(/^prod-[0-9a-f]{8}$/);
    expect(stackKey('Prod')).not.toBe(stackKey('PROD'));
    expect(stackKey('team/app_v2')).toMatch(/^team-app-v2-[0-9a-f]{8}$/);
    expect(stackKey('ümlaut')).toMatch(/^mlaut-[0-9a-f]{8}$/);
    expect(stackKey('///')).toMatch(/^stack-[0-9a-f]{8}$/);
    expect(stackKey('x'.repeat(80))).toMatch(/^x{40}-[0-9a-f]{8}$/);
  });
});
