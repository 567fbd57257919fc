import { describe, expect, it } from 'vitest';
import { checkKubernetesVersion } from '../../../src/install/preflight.ts';

describe('the api-server check against the package range', () => {
  it('passes a server inside the range, suffixes and all', async () => {
    expect(await checkKubernetesVersion('v1.37.2', '>=1.30 <1.38')).toBe(
      'inside the supported range >=1.30 <1.38',
    );
    expect(await checkKubernetesVersion('v1.31.4-eks-2f3a', '>=1.30 <1.38')).toContain('inside');
  });

  it('refuses a server outside the range, naming both', async () => {
    await expect(checkKubernetesVersion('v1.38.0', '>=1.30 <1.38')).rejects.toMatchObject({
      kind: 'preflight',
      message: expect.stringContaining(
        'the cluster runs Kubernetes v1.38.0, and the package supports >=1.30 <1.38',
      ),
    });
    await expect(checkKubernetesVersion(undefined, '>=1.30')).rejects.toMatchObject({ kind: 'preflight' });
  });

  it('accepts any server when the package declares no range', async () => {
    expect(await checkKubernetesVersion('v0.1.0', undefined)).toBe('the package declares no supported range');
  });
});
