import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseChallenges } from '../../../src/bundle/oci/challenge.ts';
import { defaultDockerConfigPath, lookupDockerCredentials } from '../../../src/bundle/oci/docker-config.ts';

describe('parseChallenges', () => {
  it('reads a bearer challenge with quoted parameters', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example.com/token',
          service: 'registry.example.com',
          scope: 'repository:a/b:pull,push',
        },
      },
    ]);
  });

  it('reads several challenges, unquoted values and escapes', () => {
    expect(
      parseChallenges(
        'Basic realm="a \\"quoted\\" realm", Bearer realm=https://t/x, error=insufficient_scope',
      ),
    ).toEqual([
      { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', error: 'insufficient_scope' } },
    ]);
  });

  it('survives empty and odd input', () => {
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('Negotiate')).toEqual([{ scheme: 'negotiate', params: {} }]);
  });
});

describe('docker config.json credentials', () => {
  async function config(value: unknown): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'kdeliver-docker-config-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify(value));
    return join(dir, 'config.json');
  }
  const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

  it('finds auth entries by host, URL or Docker Hub alias', async () => {
    const path = await config({
      auths: {
        'https://index.docker.io/v1/': { auth: auth('hub', 'p1') },
        'registry.example.com:5000': { auth: auth('me', 'pa:ss') },
        'http://other.example.com/v2/': { username: 'u', password: 'p' },
      },
    });
    expect(await lookupDockerCredentials('docker.io', path)).toMatchObject({
      kind: 'found',
      credentials: { username: 'hub', password: 'p1' },
    });
    expect(await lookupDockerCredentials('registry.example.com:5000', path)).toMatchObject({
      credentials: { username: 'me', password: 'pa:ss' },
    });
    expect(await lookupDockerCredentials('other.example.com', path)).toMatchObject({
      credentials: { username: 'u', password: 'p' },
    });
    expect(await lookupDockerCredentials('registry.example.com', path)).toEqual({ kind: 'none' });
  });

  it('reports credential helpers instead of running them', async () => {
    const path = await config({
      auths: { 'a.example.com': {} },
      credsStore: 'desktop',
      credHelpers: { 'b.example.com': 'ecr-login' },
    });
    expect(await lookupDockerCredentials('a.example.com', path)).toMatchObject({
      kind: 'helper',
      helper: 'desktop',
    });
    expect(await lookupDockerCredentials('b.example.com', path)).toMatchObject({
      kind: 'helper',
      helper: 'ecr-login',
    });
  });

  it('treats a missing file as no credentials and a broken one as an input error', async () => {
    expect(await lookupDockerCredentials('x', '/nonexistent/config.json')).toEqual({ kind: 'none' });
    const dir = await mkdtemp(join(tmpdir(), 'kdeliver-docker-config-'));
    await writeFile(join(dir, 'config.json'), '{nope');
    await expect(lookupDockerCredentials('x', join(dir, 'config.json'))).rejects.toMatchObject({
      kind: 'input',
      code: 'DOCKER_CONFIG_INVALID',
    });
  });

  it('honours $DOCKER_CONFIG', () => {
    expect(defaultDockerConfigPath({ DOCKER_CONFIG: '/etc/dc' })).toBe('/etc/dc/config.json');
    expect(defaultDockerConfigPath({})).toMatch(/\.docker\/config\.json$/);
  });
});
