/**
 * `kdeliver build` end to end: images pushed to the sandbox's source registry, a spec
 * naming them by tag, the CLI building a package that `verify` and `inspect` accept, and
 * skopeo (an independent client) reading the OCI layout extracted with tar and zstd.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, runProgram } from '../helpers/cli.ts';
import { makeImage, pushImage, type Blob, type Image, type RegistryTarget } from '../helpers/oci-images.ts';
import type { BuildResult } from '../../src/bundle/build.ts';

const env = () => inject('sandboxEnv');
const source = (): RegistryTarget => ({
  host: env().KDELIVER_SOURCE_REGISTRY!,
  ca: env().KDELIVER_SOURCE_REGISTRY_CA!,
});
const CREATED = '2025-03-04T05:06:07.000Z';

let work: string;
let specFile: string;
let amd64: Image;
let arm64: Image;
let worker: Image;
let index: Blob;
const ref = (path: string) => `${source().host}/${path}`;

async function kdeliver(args: string[]) {
  const result = await runCli(args, {
    env: {
      ...process.env,
      ...env(),
      SOURCE_DATE_EPOCH: String(Date.parse(CREATED) / 1000),
      DOCKER_CONFIG: work,
    },
  });
  if (result.code !== 0)
    throw new Error(`kdeliver ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

async function build(args: string[]): Promise<BuildResult> {
  const result = await kdeliver(['build', '--json', ...args]);
  // With --json, progress stays silent and stdout carries only the summary.
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as BuildResult;
}

async function sha256File(paths: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const path of paths) hash.update(await readFile(path));
  return `sha256:${hash.digest('hex')}`;
}

/** Extracts images/ with GNU tar and the zstd CLI; returns the layout directory. */
async function extractLayout(pkg: string, name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  const untar = await runProgram('tar', ['--zstd', '-xf', pkg, '-C', dir, 'images']);
  if (untar.code !== 0) throw new Error(`tar: ${untar.stderr}`);
  return join(dir, 'images');
}

async function skopeoInspect(layout: string, reference: string, options: string[] = []): Promise<string> {
  const result = await runProgram('skopeo', ['inspect', ...options, `oci:${layout}:${reference}`]);
  if (result.code !== 0) throw new Error(`skopeo inspect ${reference}: ${result.stderr}`);
  return result.stdout;
}

async function skopeoCopy(from: string, to: string): Promise<void> {
  const result = await runProgram('skopeo', ['copy', '--src-cert-dir', dirname(source().ca), from, to]);
  if (result.code !== 0) throw new Error(`skopeo copy ${from} ${to}: ${result.stderr}`);
}

function workload(kind: string, apiVersion: string, name: string, spec: Record<string, unknown>) {
  return {
    id: `${apiVersion}:${kind}:shop:${name}`,
    type: 'Kubernetes',
    attributes: { apiVersion, kind, metadata: { namespace: 'shop', name }, spec },
    dependsOn: ['v1:Namespace:shop'],
  };
}

const namespace = {
  id: 'v1:Namespace:shop',
  type: 'Kubernetes',
  attributes: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-build-'));
  await writeFile(join(work, 'config.json'), '{"auths":{}}');
  amd64 = await makeImage({ os: 'linux', architecture: 'amd64' }, [48 * 1024, 4 * 1024]);
  arm64 = await makeImage({ os: 'linux', architecture: 'arm64', variant: 'v8' }, [40 * 1024]);
  worker = await makeImage({ os: 'linux', architecture: 'amd64' }, [30 * 1024]);
  index = await pushImage(source(), 'build/web', '1.4', [amd64, arm64]);
  await pushImage(source(), 'build/worker', '2.0', [worker]);
  // The web image's amd64 manifest again under another name: its blobs go into the package once.
  await pushImage(source(), 'build/migrate', '1', [amd64]);

  const template = (containers: unknown[], initContainers: unknown[] = []) => ({
    template: { spec: { containers, initContainers } },
  });
  specFile = join(work, 'shop.yaml');
  await writeFile(
    specFile,
    stringify({
      resources: [
        namespace,
        workload('Deployment', 'apps/v1', 'web', {
          ...template(
            [{ name: 'web', image: ref('build/web:1.4') }],
            [{ name: 'migrate', image: ref('build/migrate:1') }],
          ),
        }),
        workload('CronJob', 'batch/v1', 'report', {
          schedule: '0 * * * *',
          jobTemplate: { spec: template([{ name: 'report', image: ref('build/worker:2.0') }]) },
        }),
        workload('Job', 'batch/v1', 'once', template([{ name: 'once', image: ref('build/worker:2.0') }])),
      ],
    }),
  );
  await kdeliver(['keys', 'generate', '--out', work]);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('kdeliver build', () => {
  it('builds a signed package from a spec that verify, inspect and skopeo accept', async () => {
    const pkg = join(work, 'shop.tar.zst');
    const summary = await build([
      '--spec',
      specFile,
      '--version',
      '1.4.0',
      '--key',
      join(work, 'kdeliver.key'),
      '-o',
      pkg,
    ]);
    expect(summary).toMatchObject({
      name: 'shop',
      version: '1.4.0',
      created: CREATED,
      files: [{ path: pkg }],
      stacks: [{ name: 'shop', resources: 4 }],
    });
    expect(summary.signer).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(summary.digest).toBe(await sha256File([pkg]));
    expect(summary.size).toBe((await readFile(pkg)).length);
    expect(summary.images.map(({ reference, digest }) => [reference, digest])).toEqual([
      [ref('build/migrate:1'), amd64.manifest.digest],
      [ref('build/web:1.4'), index.digest],
      [ref('build/worker:2.0'), worker.manifest.digest],
    ]);
    // The single-platform images' platforms come from their configs.
    expect(summary.images.map((image) => image.platforms)).toEqual([
      [amd64.platform],
      [amd64.platform, arm64.platform],
      [worker.platform],
    ]);

    const verified = JSON.parse(
      (await kdeliver(['verify', pkg, '--key', join(work, 'kdeliver.pub'), '--json'])).stdout,
    ) as { entries: number; images: number; verifiedKey: string };
    // spec, state.db, oci-layout, index.json, and each distinct blob once: web 4 + 3 + 1, worker 3.
    expect(verified).toMatchObject({ entries: 4 + 11, images: 3, verifiedKey: summary.signer });

    const inspected = JSON.parse(
      (await kdeliver(['inspect', pkg, '--key', join(work, 'kdeliver.pub'), '--json'])).stdout,
    ) as { stacks: { name: string; kinds: Record<string, number> }[]; images: { digest: string }[] };
    expect(inspected.stacks).toEqual([
      { name: 'shop', resources: 4, kinds: { CronJob: 1, Deployment: 1, Job: 1, Namespace: 1 } },
    ]);
    const catalogImages = JSON.parse(
      (
        await kdeliver([
          'inspect',
          pkg,
          '--key',
          join(work, 'kdeliver.pub'),
          '--json',
          '--sql',
          'select reference, digest from images order by reference',
        ])
      ).stdout,
    ) as { rows: string[][] };
    expect(catalogImages.rows).toEqual(summary.images.map((image) => [image.reference, image.digest]));

    const layout = await extractLayout(pkg, 'signed');
    expect(await skopeoInspect(layout, ref('build/web:1.4'), ['--raw'])).toBe(index.data.toString());
    const arm = JSON.parse(
      await skopeoInspect(layout, ref('build/web:1.4'), [
        '--override-arch',
        'arm64',
        '--override-variant',
        'v8',
      ]),
    ) as { Digest: string; Architecture: string; Layers: string[] };
    // skopeo names the image by the digest of the index the reference points at.
    expect(arm).toMatchObject({
      Digest: index.digest,
      Architecture: 'arm64',
      Layers: arm64.layers.map((layer) => layer.digest),
    });
    const job = JSON.parse(await skopeoInspect(layout, ref('build/worker:2.0'))) as { Layers: string[] };
    expect(job.Layers).toEqual(worker.layers.map((layer) => layer.digest));
  });

  it('keeps only the platform asked for, rewriting the index', async () => {
    const pkg = join(work, 'arm.tar.zst');
    const nsOnly = join(work, 'base.yaml');
    await writeFile(nsOnly, stringify([namespace]));
    const summary = await build([
      '--spec',
      `base=${nsOnly}`,
      '--image',
      ref('build/web:1.4'),
      '--platform',
      'linux/arm64',
      '--unsigned',
      '-o',
      pkg,
    ]);
    expect(summary.signer).toBeNull();
    expect(summary.images).toHaveLength(1);
    expect(summary.images[0]).toMatchObject({ platforms: [arm64.platform], sourceDigest: index.digest });
    expect(summary.images[0]!.digest).not.toBe(index.digest);

    const verified = JSON.parse(
      (await kdeliver(['verify', pkg, '--insecure-skip-verify', '--json'])).stdout,
    ) as {
      entries: number;
    };
    expect(verified.entries).toBe(4 + 4); // arm64 layer, config, manifest, the rewritten index
    const layout = await extractLayout(pkg, 'arm');
    const raw = JSON.parse(await skopeoInspect(layout, ref('build/web:1.4'), ['--raw'])) as {
      manifests: { digest: string }[];
    };
    expect(raw.manifests.map((m) => m.digest)).toEqual([arm64.manifest.digest]);
    expect(
      `sha256:${createHash('sha256')
        .update(await readFile(join(layout, 'blobs', 'sha256', summary.images[0]!.digest.slice(7))))
        .digest('hex')}`,
    ).toBe(summary.images[0]!.digest);
  });

  it('splits the package into parts that verify', async () => {
    const pkg = join(work, 'split.tar.zst');
    const summary = await build([
      '--spec',
      specFile,
      '--name',
      'split',
      '--key',
      join(work, 'kdeliver.key'),
      '--split-size',
      '32Ki',
      '-o',
      pkg,
    ]);
    expect(summary.version).toBe('0.0.0-20250304050607');
    expect(summary.files.length).toBeGreaterThan(2);
    expect(summary.files.slice(0, -1).every((file) => file.size === 32 * 1024)).toBe(true);
    expect(summary.files.map((file) => file.path)).toEqual(
      summary.files.map((_, i) => `${pkg}.${String(i).padStart(3, '0')}`),
    );
    expect(summary.digest).toBe(await sha256File(summary.files.map((file) => file.path)));
    for (const path of [pkg, `${pkg}.000`]) {
      const verified = await kdeliver(['verify', path, '--key', join(work, 'kdeliver.pub'), '--json']);
      expect(JSON.parse(verified.stdout)).toMatchObject({ entries: 4 + 11, images: 3 });
    }
  });

  it('delivers --image oci: and docker-archive: sources under their names, in place of spec images', async () => {
    const layout = join(work, 'local-layout');
    const archive = join(work, 'local-web.tar');
    const webName = 'registry.example/local/web:1.0';
    const workerName = 'registry.example/local/worker:2.0';
    await skopeoCopy(`docker://${ref('build/worker:2.0')}`, `oci:${layout}:${workerName}`);
    await skopeoCopy(`docker://${ref('build/worker:2.0')}`, `oci:${layout}:2.0`);
    await skopeoCopy(`docker://${ref('build/migrate:1')}`, `docker-archive:${archive}:${webName}`);
    // registry.example does not resolve: only the archive can provide the spec's image.
    const spec = join(work, 'local.yaml');
    await writeFile(
      spec,
      stringify([namespace, workload('Pod', 'v1', 'web', { containers: [{ name: 'web', image: webName }] })]),
    );
    const pkg = join(work, 'local.tar.zst');
    const summary = await build([
      '--spec',
      spec,
      '--image',
      `oci:${layout}:${workerName}`,
      '--image',
      `docker-archive:${archive}`,
      '--unsigned',
      '-o',
      pkg,
    ]);
    expect(summary.images).toMatchObject([
      { reference: webName, source: `docker-archive:${archive}`, platforms: [amd64.platform] },
      { reference: workerName, source: `oci:${layout}:${workerName}`, digest: worker.manifest.digest },
    ]);
    const verified = await kdeliver(['verify', pkg, '--insecure-skip-verify', '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({ images: 2 });
    const extracted = await extractLayout(pkg, 'local');
    const web = JSON.parse(await skopeoInspect(extracted, webName)) as { Digest: string; Layers: string[] };
    expect(web.Digest).toBe(summary.images[0]!.digest);
    expect(web.Layers).toHaveLength(amd64.layers.length);

    const tagOnly = await runCli(
      [
        'build',
        '--spec',
        specFile,
        '--image',
        `oci:${layout}:2.0`,
        '--unsigned',
        '-o',
        join(work, 'tag.tar'),
      ],
      { env: { ...process.env, ...env(), DOCKER_CONFIG: work } },
    );
    expect(tagOnly.code).toBe(3);
    expect(tagOnly.stderr).toContain('Error [IMAGE_NAME_MISSING]');
  });

  it('names the image and exits 7 when a tag is missing from the registry', async () => {
    const missing = join(work, 'missing.yaml');
    await writeFile(
      missing,
      stringify([
        namespace,
        workload('Pod', 'v1', 'ghost', { containers: [{ name: 'ghost', image: ref('build/ghost:9') }] }),
      ]),
    );
    const result = await runCli(
      ['build', '--spec', missing, '--unsigned', '-o', join(work, 'ghost.tar.zst')],
      {
        env: { ...process.env, ...env(), DOCKER_CONFIG: work },
      },
    );
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('build/ghost');
    expect(result.stderr).toContain('used by stack missing, resource v1:Pod:shop:ghost');
  });
});
