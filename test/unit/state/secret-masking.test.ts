import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskSecretData } from '../../../src/state/secret-masking.ts';

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe('Secret masking', () => {
  it('replaces data (decoded) and stringData values with their sha256 digests', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'shop' },
      data: { password: Buffer.from('hunter2').toString('base64') },
      stringData: { token: 'abc' },
    };
    const masked = maskSecretData(secret);
    expect(masked.data).toEqual({ password: sha('hunter2') });
    expect(masked.stringData).toEqual({ token: sha('abc') });
    expect(JSON.stringify(masked)).not.toMatch(/hunter2|aHVudGVyMg|"abc"/);
    expect(secret.data.password).toBe(Buffer.from('hunter2').toString('base64'));
  });

  it("masks kubectl's last-applied annotation, which repeats the values", () => {
    const lastApplied = JSON.stringify({ data: { password: 'aHVudGVyMg==' } });
    const masked = maskSecretData({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'db',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied, team: 'a' },
      },
    });
    expect(masked.metadata).toEqual({
      name: 'db',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': sha(lastApplied), team: 'a' },
    });
  });

  it('leaves other kinds alone', () => {
    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } };
    expect(maskSecretData(config)).toBe(config);
  });
});
