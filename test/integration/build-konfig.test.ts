/**
 * `kdeliver build` from Konfig stack directories: the `kdeliver init` scaffold, its images
 * pushed to the sandbox's source registry, built by the CLI into a package whose sources
 * compile again, as a site would compile them, to the spec the package carries.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import type { BuildResult } from '../../src/bundle/build.ts';
import { loadPublicKey } from '../../src/bundle/keys.ts';
import { checkPackage } from '../../src/install/read-package.ts';
import { runCli } from '../helpers/cli.ts';
import { compilePackagedStack, SITE_OPTION, writeShopKonfig } from '../helpers/konfig.ts';
import { makeImage, pushImage, type RegistryTarget } from '../helpers/oci-images.ts';

const env = () => inject('sandboxEnv');
const source = (): RegistryTarget => ({
  host: env().KDELIVER_SOURCE_REGISTRY!,
  ca: env().KDELIVER_SOURCE_REGISTRY_CA!,
});

let work: string;
let konfig: string;
const digests = new Map<string, string>();

function kdeliver(args: string[]) {
  return runCli(args, {
    env: { ...process.env, ...env(), SOURCE_DATE_EPOCH: '1700000000', DOCKER_CONFIG: work },
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-build-konfig-'));
  await writeFile(join(work, 'config.json'), '{"auths":{}}');
  konfig = join(work, 'konfig');
  await writeShopKonfig(konfig, source().host);
  for (const name of ['web', 'api', 'worker']) {
    const image = await makeImage({ os: 'linux', architecture: 'amd64' }, [8 * 1024]);
    await pushImage(source(), `shop/${name}`, '1.0', [image]);
    digests.set(`${source().host}/shop/${name}:1.0`, image.manifest.digest);
  }
  const keys = await kdeliver(['keys', 'generate', '--out', work]);
  if (keys.code !== 0) throw new Error(keys.stderr);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('kdeliver build STACK_DIR…', () => {
  it('packages Konfig stacks whose sources compile on site to the packaged spec', async () => {
    const pkg = join(work, 'shop.tar.zst');
    const built = await kdeliver([
      'build',
      join(konfig, 'shop', 'dev'),
      join(konfig, 'shop', 'prod'),
      '-D',
      'site=lab',
      '-D',
      `image_registry=${source().host}`,
      '--key',
      join(work, 'kdeliver.key'),
      '-o',
      pkg,
      '--json',
    ]);
    if (built.code !== 0) throw new Error(`build exited ${built.code}: ${built.stdout}${built.stderr}`);
    const summary = JSON.parse(built.stdout) as BuildResult;
    // The package is named after the Konfig project both stacks belong to.
    expect(summary.name).toBe('shop');
    expect(summary.stacks).toMatchObject([
      { name: 'dev', project: 'shop', path: 'shop/dev', options: { env: 'dev' } },
      { name: 'prod', project: 'shop', path: 'shop/prod', options: { env: 'prod' } },
    ]);
    expect(summary.images.map((image) => [image.reference, image.digest])).toEqual([...digests].sort());

    const verified = await kdeliver(['verify', pkg, '--key', join(work, 'kdeliver.pub')]);
    expect(verified.code, verified.stderr).toBe(0);
    const inspected = await kdeliver(['inspect', pkg, '--key', join(work, 'kdeliver.pub'), '--json']);
    // Konfig stacks take version 2; the images' gzip layers, stored in zstd, take 3.
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      formatVersion: 3,
      stacks: [
        { name: 'dev', project: 'shop', path: 'shop/dev', variables: expect.arrayContaining([SITE_OPTION]) },
        { name: 'prod', project: 'shop', path: 'shop/prod' },
      ],
    });

    const checked = await checkPackage(pkg, { publicKey: await loadPublicKey(join(work, 'kdeliver.pub')) });
    const [dev, prod] = checked.konfigStacks;
    expect(dev!.variables).toContainEqual(SITE_OPTION);
    expect(dev!.options).not.toHaveProperty(SITE_OPTION.name);
    expect(prod!.variables.map((variable) => variable.name)).not.toContain(SITE_OPTION.name);
    for (const stack of [dev!, prod!]) {
      const packaged = checked.specs.find((spec) => spec.stack === stack.name)!.text;
      const values = { [SITE_OPTION.name]: 'lab' };
      expect(await compilePackagedStack(join(work, 'site', stack.name), stack, values)).toBe(packaged);
    }
    // Another site's value ends up in its spec.
    const other = await compilePackagedStack(join(work, 'site-b'), dev!, { [SITE_OPTION.name]: 'site-b' });
    expect(other).toContain('shop.example/site: site-b');
  });

  it('refuses a required option without a build-time value, asking for a sample (exit 3)', async () => {
    const result = await kdeliver([
      'build',
      join(konfig, 'shop', 'dev'),
      '--unsigned',
      '-o',
      join(work, 'x.tar'),
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('Error [STACK_VARIABLE_UNSET]');
    expect(result.stderr).toContain(`-D ${SITE_OPTION.name}=VALUE`);
  });

  it('refuses two inputs with one stack name (exit 2)', async () => {
    const spec = join(work, 'dev.yaml');
    await writeFile(spec, stringify([]));
    const result = await kdeliver([
      'build',
      join(konfig, 'shop', 'dev'),
      '--spec',
      spec,
      '-D',
      'site=lab',
      '--name',
      'both',
      '--unsigned',
      '-o',
      join(work, 'both.tar'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error [STACK_DUPLICATE]');
    expect(result.stderr).toContain('Hint: Give every stack its own name');
  });
});
