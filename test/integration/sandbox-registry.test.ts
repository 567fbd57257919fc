import { describe, expect, inject, it } from 'vitest';
import { runProgram } from '../helpers/cli.ts';
import { makeImage, MEDIA_TYPES, pushImage, type RegistryTarget } from '../helpers/oci-images.ts';

function siteRegistry(): RegistryTarget {
  const env = inject('sandboxEnv');
  return {
    host: env.KDELIVER_REGISTRY!,
    ca: env.KDELIVER_REGISTRY_CA!,
    user: env.KDELIVER_REGISTRY_USER!,
    password: env.KDELIVER_REGISTRY_PASSWORD!,
  };
}

function sourceRegistry(): RegistryTarget {
  const env = inject('sandboxEnv');
  return { host: env.KDELIVER_SOURCE_REGISTRY!, ca: env.KDELIVER_SOURCE_REGISTRY_CA! };
}

/** skopeo trusts a CA from a directory of *.crt files. */
function skopeo(args: string[]) {
  return runProgram('skopeo', args);
}

function certDir(ca: string): string {
  return ca.slice(0, ca.lastIndexOf('/'));
}

describe('sandbox registries', () => {
  it('demands credentials on the site registry, and skopeo reads back a pushed image', async () => {
    const target = siteRegistry();
    const image = await makeImage({ os: 'linux', architecture: 'amd64' }, [64 * 1024, 8 * 1024]);
    await pushImage(target, 'smoke/app', 'v1', [image]);

    const refused = await skopeo([
      'inspect',
      '--cert-dir',
      certDir(target.ca),
      '--no-creds',
      `docker://${target.host}/smoke/app:v1`,
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unauthorized|authentication required/i);

    const inspected = await skopeo([
      'inspect',
      '--cert-dir',
      certDir(target.ca),
      '--creds',
      `${target.user}:${target.password}`,
      `docker://${target.host}/smoke/app:v1`,
    ]);
    expect(inspected.stderr).toBe('');
    const info = JSON.parse(inspected.stdout) as { Digest: string; Architecture: string; Layers: string[] };
    expect(info.Digest).toBe(image.manifest.digest);
    expect(info.Architecture).toBe('amd64');
    expect(info.Layers).toEqual(image.layers.map((layer) => layer.digest));
  });

  it('serves a two-platform index from the source registry without auth', async () => {
    const target = sourceRegistry();
    const amd64 = await makeImage({ os: 'linux', architecture: 'amd64' }, [16 * 1024]);
    const arm64 = await makeImage({ os: 'linux', architecture: 'arm64', variant: 'v8' }, [16 * 1024]);
    const index = await pushImage(target, 'smoke/multi', 'v1', [amd64, arm64]);

    const raw = await skopeo([
      'inspect',
      '--raw',
      '--cert-dir',
      certDir(target.ca),
      `docker://${target.host}/smoke/multi:v1`,
    ]);
    expect(raw.code).toBe(0);
    expect(raw.stdout).toBe(index.data.toString());
    const parsed = JSON.parse(raw.stdout) as { mediaType: string; manifests: { digest: string }[] };
    expect(parsed.mediaType).toBe(MEDIA_TYPES.index);
    expect(parsed.manifests.map((m) => m.digest)).toEqual([amd64.manifest.digest, arm64.manifest.digest]);

    const arm = await skopeo([
      'inspect',
      '--cert-dir',
      certDir(target.ca),
      '--override-arch',
      'arm64',
      '--override-variant',
      'v8',
      `docker://${target.host}/smoke/multi:v1`,
    ]);
    expect(arm.code).toBe(0);
    // skopeo reports the digest of the reference (the index) and the details of the platform it chose.
    const chosen = JSON.parse(arm.stdout) as { Digest: string; Architecture: string; Layers: string[] };
    expect(chosen.Digest).toBe(index.digest);
    expect(chosen.Architecture).toBe('arm64');
    expect(chosen.Layers).toEqual(arm64.layers.map((layer) => layer.digest));
  });
});
