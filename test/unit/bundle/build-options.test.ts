import { describe, expect, it } from 'vitest';
import { buildTime, checkBuildInputs } from '../../../src/bundle/build.ts';
import { sourceRegistrySettings } from '../../../src/bundle/source-registries.ts';

describe('buildTime', () => {
  const now = () => new Date('2030-01-01T00:00:00Z');

  it('takes SOURCE_DATE_EPOCH seconds, else the clock', () => {
    expect(buildTime({ SOURCE_DATE_EPOCH: '1741064767' }, now).toISOString()).toBe(
      '2025-03-04T05:06:07.000Z',
    );
    expect(buildTime({}, now)).toEqual(now());
    expect(buildTime({ SOURCE_DATE_EPOCH: '' }, now)).toEqual(now());
  });

  it.each(['-1', '1.5', 'yesterday', '99999999999999999999'])('refuses SOURCE_DATE_EPOCH=%s', (value) => {
    expect(() => buildTime({ SOURCE_DATE_EPOCH: value }, now)).toThrow(
      expect.objectContaining({ kind: 'usage', code: 'SOURCE_DATE_EPOCH_INVALID' }),
    );
  });
});

describe('checkBuildInputs', () => {
  it('wants a stack directory or a spec, and -D only with stack directories', () => {
    const spec = { stack: 'shop', path: 'shop.yaml' };
    expect(() =>
      checkBuildInputs({ stackDirs: ['shop/dev'], defines: ['env=dev'], specs: [] }),
    ).not.toThrow();
    expect(() => checkBuildInputs({ specs: [spec] })).not.toThrow();
    expect(() => checkBuildInputs({ stackDirs: [], specs: [] })).toThrow(
      expect.objectContaining({ kind: 'usage', code: 'BUILD_INPUT_MISSING' }),
    );
    expect(() => checkBuildInputs({ defines: ['env=dev'], specs: [spec] })).toThrow(
      expect.objectContaining({ kind: 'usage', code: 'BUILD_OPTION_UNUSED' }),
    );
  });
});

describe('sourceRegistrySettings', () => {
  const env = {
    KDELIVER_SOURCE_REGISTRY: '127.0.0.1:5001',
    KDELIVER_SOURCE_REGISTRY_CA: '/sandbox/source-ca.crt',
    KDELIVER_REGISTRY: '127.0.0.1:5000',
    KDELIVER_REGISTRY_CA: '/sandbox/site-ca.crt',
    DOCKER_CONFIG: '/home/me/.docker',
  };
  const refs = ['127.0.0.1:5001/shop/web:1', 'registry.example/shop/api:2'];

  it('trusts the sandbox CAs for their own hosts only, and reads the Docker config', () => {
    const settings = sourceRegistrySettings(refs, {}, env);
    expect(settings('127.0.0.1:5001')).toEqual({
      ca: '/sandbox/source-ca.crt',
      dockerConfigPath: '/home/me/.docker/config.json',
    });
    expect(settings('127.0.0.1:5000').ca).toBe('/sandbox/site-ca.crt');
    expect(settings('registry.example')).toEqual({ dockerConfigPath: '/home/me/.docker/config.json' });
  });

  it('lets --registry-ca override, and marks only the named hosts insecure', () => {
    const settings = sourceRegistrySettings(refs, { ca: '/etc/ca', insecure: ['registry.example'] }, env);
    expect(settings('127.0.0.1:5001')).toMatchObject({ ca: '/etc/ca' });
    expect(settings('127.0.0.1:5001').insecure).toBeUndefined();
    expect(settings('registry.example')).toMatchObject({ ca: '/etc/ca', insecure: true });
  });

  it('sends command-line credentials only when every image comes from one registry', () => {
    const credentials = { username: 'me', password: 'secret' };
    expect(
      sourceRegistrySettings(refs.slice(0, 1), { credentials }, env)('127.0.0.1:5001').credentials,
    ).toEqual(credentials);
    expect(() => sourceRegistrySettings(refs, { credentials }, env)).toThrow(
      expect.objectContaining({ kind: 'usage', code: 'SOURCE_CREDENTIALS_AMBIGUOUS' }),
    );
  });
});
