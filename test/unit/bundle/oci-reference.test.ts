import { describe, expect, it } from 'vitest';
import { formatReference, parseReference } from '../../../src/bundle/oci/reference.ts';
import { parsePlatforms, platformMatches } from '../../../src/bundle/oci/platform.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }],
    ['index.docker.io/library/alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/team/app:v1', { registry: 'localhost:5000', repository: 'team/app', tag: 'v1' }],
    ['127.0.0.1:5000/app@' + DIGEST, { registry: '127.0.0.1:5000', repository: 'app', digest: DIGEST }],
    [
      'registry.example.com/a/b/c:1.0-rc.1@' + DIGEST,
      { registry: 'registry.example.com', repository: 'a/b/c', tag: '1.0-rc.1', digest: DIGEST },
    ],
    [
      'ghcr.io/org/my__weird-name.x:latest',
      { registry: 'ghcr.io', repository: 'org/my__weird-name.x', tag: 'latest' },
    ],
  ])('parses %s', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['Nginx', /lowercase/],
    ['app:', /not a valid tag/],
    ['app:-bad', /not a valid tag/],
    ['app@sha256:abc', /not a sha256 digest/],
    ['registry.example.com/', /repository name is missing/],
    ['registry.example.com/a//b', /lowercase/],
    [' nginx', /spaces/],
  ])('rejects %j', (text, message) => {
    expect(() => parseReference(text)).toThrow(message);
    try {
      parseReference(text);
    } catch (error) {
      expect(error).toMatchObject({ kind: 'input', code: 'IMAGE_REFERENCE_INVALID' });
    }
  });

  it('formats what it parsed', () => {
    expect(formatReference(parseReference('redis'))).toBe('docker.io/library/redis');
    expect(formatReference(parseReference(`r.io:443/x/y:t@${DIGEST}`))).toBe(`r.io:443/x/y:t@${DIGEST}`);
  });
});

describe('platforms', () => {
  it('parses lists and matches variants loosely', () => {
    const [amd64, arm64] = parsePlatforms('linux/amd64, linux/arm64');
    expect(amd64).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(platformMatches(arm64!, { os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe(true);
    expect(
      platformMatches(
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { os: 'linux', architecture: 'arm64' },
      ),
    ).toBe(true);
    expect(
      platformMatches(
        { os: 'linux', architecture: 'arm', variant: 'v7' },
        { os: 'linux', architecture: 'arm', variant: 'v6' },
      ),
    ).toBe(false);
    expect(platformMatches(amd64!, { os: 'windows', architecture: 'amd64' })).toBe(false);
    expect(() => parsePlatforms('linux')).toThrow(/os\/arch/);
  });
});
