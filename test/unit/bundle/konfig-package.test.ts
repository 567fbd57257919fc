/**
 * Konfig stacks in a package: what the build keeps of a compiled stack (sources, variables,
 * options), the manifest rules for them, and that the sources read back compile again to
 * the same spec.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpecs } from '../../../src/bundle/build-specs.ts';
import { parseManifest } from '../../../src/bundle/format.ts';
import { compileKonfigStacks, loadKonfigStacks } from '../../../src/bundle/konfig-stacks.ts';
import { loadPublicKey } from '../../../src/bundle/keys.ts';
import { writePackage } from '../../../src/bundle/package-writer.ts';
import { checkPackage } from '../../../src/install/read-package.ts';
import { compilePackagedStack, SITE_OPTION, writeShopKonfig } from '../../helpers/konfig.ts';
import { makeSigner, packageOptions, sampleImages, tempDir } from './fixtures.ts';

async function scaffold(): Promise<string> {
  const root = join(await tempDir(), 'konfig');
  await writeShopKonfig(root);
  return root;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

describe('compileKonfigStacks', () => {
  it('keeps the settings files and exactly the KCL files the compile read, as read', async () => {
    const root = await scaffold();
    const [dev] = compileKonfigStacks(loadKonfigStacks([join(root, 'shop', 'dev')]), ['site=lab']);
    const kcl = (await filesUnder(root)).filter(
      (path) => path.endsWith('.k') && !path.startsWith('shop/prod/'),
    );
    expect(dev!.sources.map((file) => file.path).sort()).toEqual(
      [
        'kcl.mod',
        'shop/project.yaml',
        'shop/dev/stack.yaml',
        'shop/dev/kcl.yaml',
        'shop/dev/ci-test/settings.yaml',
        ...kcl,
      ].sort(),
    );
    for (const file of dev!.sources)
      expect(Buffer.from(file.content)).toEqual(await readFile(join(root, file.path)));
    expect(dev).toMatchObject({ name: 'dev', project: 'shop', path: 'shop/dev' });
    expect(dev!.spec).toContain('shop.example/site: lab');
  });

  it('makes required options variables and records the values given to the others', async () => {
    const root = await scaffold();
    const [dev] = compileKonfigStacks(loadKonfigStacks([join(root, 'shop', 'dev')]), [
      'site=lab',
      'env=staging',
    ]);
    expect(dev!.variables).toContainEqual(SITE_OPTION);
    // -D wins over ci-test/settings.yaml; a variable's build-time value is only a sample.
    expect(dev!.options).toMatchObject({ env: 'staging' });
    expect(dev!.options).not.toHaveProperty('site');
    expect(dev!.spec).toContain('namespace: shop-staging');
  });

  it('asks for a sample value of a required option the build has none for', async () => {
    const root = await scaffold();
    expect(() => compileKonfigStacks(loadKonfigStacks([join(root, 'shop', 'dev')]), [])).toThrow(
      expect.objectContaining({
        kind: 'input',
        code: 'STACK_VARIABLE_UNSET',
        hint: expect.stringContaining('-D site=VALUE'),
      }),
    );
  });
});

describe('a package with Konfig stacks', () => {
  it('round-trips sources, variables and options; the sources compile again to the same spec', async () => {
    const root = await scaffold();
    const dir = await tempDir();
    const stacks = compileKonfigStacks(
      loadKonfigStacks([join(root, 'shop', 'dev'), join(root, 'shop', 'prod')]),
      ['site=lab'],
    );
    const specs = await loadSpecs([], stacks);
    const { signer, publicKeyPath } = await makeSigner(dir);
    const output = join(dir, 'shop.tar.zst');
    const written = await writePackage(
      output,
      packageOptions(await sampleImages(), signer, {
        stacks: specs.stacks,
        specs: specs.specs,
        konfigStacks: stacks,
      }),
    );
    // Konfig stacks take version 2; gzip layers stored in a zstd package take 3.
    expect(written.manifest.formatVersion).toBe(3);
    const entryNames = written.manifest.entries.map((entry) => entry.path);
    expect(entryNames.indexOf('specs/prod/spec.yaml')).toBeLessThan(
      entryNames.indexOf('sources/dev/kcl.mod'),
    );
    expect(entryNames.indexOf('sources/prod/shop/prod/main.k')).toBeLessThan(entryNames.indexOf('state.db'));

    const checked = await checkPackage(output, { publicKey: await loadPublicKey(publicKeyPath) });
    // The signed bytes hold these fields and no others.
    expect((JSON.parse(checked.manifestBytes.toString()) as { stacks: unknown }).stacks).toEqual(
      stacks.map(({ sources: _sources, spec: _spec, ...stack }) => ({
        ...stack,
        resources: expect.any(Number),
      })),
    );
    const [dev, prod] = checked.konfigStacks;
    expect(dev).toMatchObject({
      name: 'dev',
      project: 'shop',
      path: 'shop/dev',
      variables: stacks[0]!.variables,
    });
    expect(prod).toMatchObject({ name: 'prod', options: stacks[1]!.options });

    // The site's compile: the sources under a new root, the recorded options, a value per variable.
    for (const stack of [dev!, prod!]) {
      const spec = await compilePackagedStack(join(dir, 'site', stack.name), stack, { site: 'lab' });
      expect(spec).toBe(checked.specs.find((packaged) => packaged.stack === stack.name)!.text);
    }
  });

  it('writes format version 1 when it has no Konfig stack and stores no layer, 3 when zstd stores gzip layers', async () => {
    const dir = await tempDir();
    const images = await sampleImages();
    for (const compression of ['gzip', 'none'] as const) {
      const written = await writePackage(
        join(dir, `plain.tar.${compression}`),
        packageOptions(images, null, { compression }),
      );
      expect(written.manifest.formatVersion).toBe(1);
    }
    const zstd = await writePackage(join(dir, 'plain.tar.zst'), packageOptions(images, null));
    expect(zstd.manifest.formatVersion).toBe(3);
  });
});

describe('parseManifest with Konfig stacks', () => {
  const digest = '0'.repeat(64);
  interface RawStack {
    name: string;
    resources: number;
    path?: string;
    variables?: { name: string }[];
    options?: Record<string, unknown> | unknown[];
  }
  interface RawManifest {
    formatVersion: number;
    stacks: RawStack[];
    entries: { path: string; size: number; sha256: string }[];
  }
  const dev = (m: RawManifest) => m.stacks[0]!;
  function manifest(change: (m: RawManifest) => void = () => {}): Buffer {
    const m = {
      formatVersion: 2,
      name: 'shop',
      version: '1.0.0',
      created: '2025-01-02T03:04:05.000Z',
      builder: { name: 'kdeliver', version: '0.1.0' },
      signer: null,
      stacks: [
        {
          name: 'dev',
          resources: 1,
          project: 'shop',
          path: 'shop/dev',
          variables: [{ name: 'domain', type: 'str', help: 'Where the site is reached' }],
          options: { env: 'dev', replicas: 2 },
        },
        { name: 'ops', resources: 1 },
      ],
      images: [],
      entries: [
        'specs/dev/spec.yaml',
        'specs/ops/spec.yaml',
        'sources/dev/kcl.mod',
        'sources/dev/shop/dev/main.k',
      ].map((path) => ({ path, size: 1, sha256: digest })),
    };
    change(m);
    return Buffer.from(JSON.stringify(m));
  }

  it('reads a Konfig stack and a plain one', () => {
    expect(parseManifest(manifest()).stacks).toEqual([
      {
        name: 'dev',
        resources: 1,
        project: 'shop',
        path: 'shop/dev',
        variables: [{ name: 'domain', type: 'str', help: 'Where the site is reached' }],
        options: { env: 'dev', replicas: 2 },
      },
      { name: 'ops', resources: 1 },
    ]);
  });

  it.each<[string, (m: RawManifest) => void, string]>([
    [
      'a Konfig stack in a version 1 manifest',
      (m) => (m.formatVersion = 1),
      'format version 1 does not have',
    ],
    [
      'sources of a plain stack',
      (m) => m.entries.push({ path: 'sources/ops/kcl.mod', size: 1, sha256: digest }),
      'sources/ops/kcl.mod is not the source of a Konfig stack',
    ],
    ['a Konfig stack without kcl.mod', (m) => m.entries.splice(2, 1), 'has no sources/dev/kcl.mod'],
    ['a variable listed twice', (m) => dev(m).variables!.push({ name: 'domain' }), 'listed twice'],
    [
      'a name that is both a variable and an option',
      (m) => ((dev(m).options as Record<string, unknown>).domain = 'x'),
      'both a variable and an option',
    ],
    ['an unsafe stack path', (m) => (dev(m).path = '../dev'), 'not a safe relative path'],
    ['options that are not an object', (m) => (dev(m).options = []), 'options must be an object'],
    [
      'a stack listed twice',
      (m) => m.stacks.push({ name: 'ops', resources: 0 }),
      'stack ops is listed twice',
    ],
  ])('refuses %s', (_what, change, message) => {
    expect(() => parseManifest(manifest(change))).toThrow(
      expect.objectContaining({
        code: 'PACKAGE_MANIFEST_INVALID',
        message: expect.stringContaining(message),
      }),
    );
  });

  it('refuses a format version newer than it knows', () => {
    expect(() => parseManifest(manifest((m) => (m.formatVersion = 4)))).toThrow(
      expect.objectContaining({ code: 'PACKAGE_FORMAT_UNSUPPORTED' }),
    );
  });
});
