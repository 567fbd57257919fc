/**
 * `kdeliver install` end to end: a package built from images in the sandbox's source
 * registry is installed into its site registry (TLS, basic auth) and cluster. skopeo and
 * kubectl, independent clients, check what arrived; a tampered package and a failing
 * preflight must leave the site untouched.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, buildSigned, runCliOk, runProgram } from '../helpers/cli.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';
import { makeImage, pushImage, type Blob, type Image, type RegistryTarget } from '../helpers/oci-images.ts';
import { unique } from '../helpers/release.ts';

const env = () => inject('sandboxEnv');
const source = (): RegistryTarget => ({
  host: env().KDELIVER_SOURCE_REGISTRY!,
  ca: env().KDELIVER_SOURCE_REGISTRY_CA!,
});
const site = () => env().KDELIVER_REGISTRY!;

interface InstallResult {
  package: { name: string; verifiedKey: string | null; bytes: number };
  preflight: { name: string; result: string }[];
  push: {
    images: { reference: string; siteReference: string; tag?: string }[];
    blobs: { pushed: number; mounted: number; skipped: number };
    bytes: { pushed: number; skipped: number };
    imagesRead: boolean;
  };
  stacks: { name: string; resources: number; rewritten: number }[];
  releases: { stack: string; summary: { phase: string } }[];
}

let work: string;
let pkg: string;
let prefix: string;
let namespace: string;
let amd64: Image;
let arm64: Image;
let worker: Image;
let index: Blob;

function cliEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...env(), DOCKER_CONFIG: work, ...overrides };
}

function install(args: string[], overrides: Record<string, string> = {}) {
  return runCli(
    [
      'install',
      pkg,
      '--key',
      join(work, 'kdeliver.pub'),
      '--state',
      join(work, 'state.db'),
      '--project',
      'install-test',
      '-y',
      '--json',
      ...args,
    ],
    { env: cliEnv(overrides) },
  );
}

function skopeo(args: string[]) {
  const ca = env().KDELIVER_REGISTRY_CA!;
  return runProgram('skopeo', [
    ...args.slice(0, 1),
    '--cert-dir',
    ca.slice(0, ca.lastIndexOf('/')),
    '--creds',
    `${env().KDELIVER_REGISTRY_USER!}:${env().KDELIVER_REGISTRY_PASSWORD!}`,
    ...args.slice(1),
  ]);
}

/** Nothing of the package on the site: no repository in the registry, no namespace in the cluster. */
async function expectSiteUntouched() {
  const tags = await skopeo(['list-tags', `docker://${site()}/${prefix}/web`]);
  expect(tags.code).not.toBe(0);
  expect(tags.stderr).toMatch(/NAME_UNKNOWN|not found|404/i);
  const ns = await kubectl(['get', 'namespace', namespace]);
  expect(ns.code).not.toBe(0);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-install-'));
  await writeFile(join(work, 'config.json'), '{"auths":{}}');
  prefix = unique('install');
  namespace = unique('shop');
  amd64 = await makeImage({ os: 'linux', architecture: 'amd64' }, [48 * 1024, 4 * 1024]);
  arm64 = await makeImage({ os: 'linux', architecture: 'arm64', variant: 'v8' }, [40 * 1024]);
  // Bigger than one upload chunk, so the chunked path runs too.
  worker = await makeImage({ os: 'linux', architecture: 'amd64' }, [9 * 1024 * 1024]);
  index = await pushImage(source(), `${prefix}/web`, '1.4', [amd64, arm64]);
  await pushImage(source(), `${prefix}/worker`, '2.0', [worker]);
  // The web image's amd64 manifest under another name: its blobs are pushed once and mounted.
  await pushImage(source(), `${prefix}/migrate`, '1', [amd64]);

  const ref = (path: string) => `${source().host}/${prefix}/${path}`;
  const labels = { app: 'web' };
  const specFile = join(work, 'shop.yaml');
  await writeFile(
    specFile,
    stringify({
      resources: [
        {
          id: `v1:Namespace:${namespace}`,
          type: 'Kubernetes',
          attributes: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        },
        {
          id: `apps/v1:Deployment:${namespace}:web`,
          type: 'Kubernetes',
          attributes: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { namespace, name: 'web' },
            spec: {
              replicas: 1,
              selector: { matchLabels: labels },
              template: {
                metadata: { labels },
                spec: {
                  initContainers: [{ name: 'migrate', image: ref('migrate:1') }],
                  containers: [{ name: 'web', image: ref('web:1.4') }],
                },
              },
            },
          },
          dependsOn: [`v1:Namespace:${namespace}`],
        },
        {
          id: `batch/v1:CronJob:${namespace}:report`,
          type: 'Kubernetes',
          attributes: {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            metadata: { namespace, name: 'report' },
            spec: {
              schedule: '0 * * * *',
              jobTemplate: {
                spec: {
                  template: {
                    spec: {
                      restartPolicy: 'Never',
                      containers: [{ name: 'report', image: ref('worker:2.0') }],
                    },
                  },
                },
              },
            },
          },
          dependsOn: [`v1:Namespace:${namespace}`],
        },
      ],
    }),
  );
  await runCliOk(['keys', 'generate', '--out', work], { env: cliEnv() });
  pkg = join(work, 'shop.tar.zst');
  await buildSigned(['--spec', specFile, '--json'], { keyDir: work, out: pkg, env: cliEnv() });
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
  await rm(work, { recursive: true, force: true });
});

describe('kdeliver install', () => {
  it('refuses a tampered package before anything on the site changes', async () => {
    const bytes = await readFile(pkg);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    const tampered = join(work, 'tampered.tar.zst');
    await writeFile(tampered, bytes);
    const result = await runCli(
      ['install', tampered, '--key', join(work, 'kdeliver.pub'), '--state', join(work, 'state.db'), '-y'],
      { env: cliEnv() },
    );
    expect(result.stderr).toContain('Error [');
    expect(result.code).toBe(4);
    await expectSiteUntouched();
  });

  it('stops at a failing preflight (wrong registry password) with exit 5, before any push', async () => {
    const result = await install([], { KDELIVER_REGISTRY_PASSWORD: 'not-the-password' });
    expect(result.code).toBe(5);
    const error = (JSON.parse(result.stdout) as { error: { kind: string; code: string } }).error;
    expect(error).toMatchObject({ kind: 'preflight', code: 'PREFLIGHT_REGISTRY_FAILED' });
    await expectSiteUntouched();
  });

  it('refuses a cluster outside the Kubernetes versions the package supports, before any push', async () => {
    const narrow = join(work, 'narrow.tar.zst');
    const built = await runCli(
      [
        'build',
        '--spec',
        join(work, 'shop.yaml'),
        '--version',
        '1.0.0',
        '--kubernetes-versions',
        '>=1.20 <1.30',
        '--key',
        join(work, 'kdeliver.key'),
        '-o',
        narrow,
      ],
      { env: cliEnv() },
    );
    expect(built.code, built.stderr).toBe(0);
    const result = await runCli(
      [
        'install',
        narrow,
        '--key',
        join(work, 'kdeliver.pub'),
        '--state',
        join(work, 'state.db'),
        '--project',
        'install-test',
        '-y',
        '--json',
      ],
      { env: cliEnv() },
    );
    expect(result.code).toBe(5);
    const error = (JSON.parse(result.stdout) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('PREFLIGHT_API_SERVER_FAILED');
    expect(error.message).toMatch(/the cluster runs Kubernetes v1\.\d+\.\d+.*supports >=1\.20 <1\.30/);
    await expectSiteUntouched();
  });

  it('pushes every image by digest, rewrites the workloads to the site registry, and applies them', async () => {
    const result = await install([]);
    if (result.code !== 0) throw new Error(`install exited ${result.code}: ${result.stderr}`);
    const installed = JSON.parse(result.stdout) as InstallResult;
    expect(installed.preflight.map((check) => [check.name, check.result])).toEqual([
      ['api-server', 'passed'],
      ['rbac', 'passed'],
      ['registry', 'passed'],
      ['disk', 'passed'],
      ['storage-class', 'passed'],
    ]);
    const expected = {
      web: index.digest,
      worker: worker.manifest.digest,
      migrate: amd64.manifest.digest,
    };
    expect(installed.push.images.map((image) => image.siteReference).sort()).toEqual(
      Object.entries(expected)
        .map(([name, digest]) => `${site()}/${prefix}/${name}@${digest}`)
        .sort(),
    );
    // amd64's config and layers go to web and are mounted into migrate.
    expect(installed.push.blobs.mounted).toBe(3);
    expect(installed.push.bytes.pushed).toBeGreaterThan(9 * 1024 * 1024);
    expect(installed.stacks).toEqual([{ name: 'shop', resources: 4, rewritten: 3 }]);
    expect(installed.releases).toMatchObject([{ stack: 'shop', summary: { phase: 'succeeded' } }]);

    for (const [name, digest] of Object.entries(expected)) {
      const inspected = await skopeo(['inspect', '--raw', `docker://${site()}/${prefix}/${name}@${digest}`]);
      expect(inspected.code, inspected.stderr).toBe(0);
    }
    const tagged = await skopeo(['inspect', '--raw', `docker://${site()}/${prefix}/web:1.4`]);
    expect(JSON.parse(tagged.stdout)).toMatchObject({ manifests: [{ digest: amd64.manifest.digest }, {}] });
    const arm = await skopeo([
      'inspect',
      '--override-arch',
      'arm64',
      '--override-variant',
      'v8',
      `docker://${site()}/${prefix}/web:1.4`,
    ]);
    expect(arm.code, arm.stderr).toBe(0);
    expect(JSON.parse(arm.stdout)).toMatchObject({ Digest: index.digest, Architecture: 'arm64' });

    const deployment = await kubectlJson(['get', 'deployment', 'web', '-n', namespace]);
    const podSpec = deployment.spec.template.spec;
    expect(podSpec.containers[0].image).toBe(`${site()}/${prefix}/web@${index.digest}`);
    expect(podSpec.initContainers[0].image).toBe(`${site()}/${prefix}/migrate@${amd64.manifest.digest}`);
    expect(podSpec.imagePullSecrets).toEqual([{ name: 'kdeliver-registry' }]);
    const cronJob = await kubectlJson(['get', 'cronjob', 'report', '-n', namespace]);
    expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(
      `${site()}/${prefix}/worker@${worker.manifest.digest}`,
    );
    const secret = await kubectlJson(['get', 'secret', 'kdeliver-registry', '-n', namespace]);
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');

    // The state file has the Secret only as digests.
    const state = await readFile(join(work, 'state.db'));
    expect(state.includes(Buffer.from(env().KDELIVER_REGISTRY_PASSWORD!))).toBe(false);
    expect(state.includes(Buffer.from(secret.data['.dockerconfigjson'] as string))).toBe(false);
  });

  it('skips every blob on a second install', async () => {
    const result = await install([]);
    if (result.code !== 0) throw new Error(`install exited ${result.code}: ${result.stderr}`);
    const installed = JSON.parse(result.stdout) as InstallResult;
    expect(installed.push.blobs).toMatchObject({ pushed: 0, mounted: 0 });
    expect(installed.push.bytes.pushed).toBe(0);
    expect(installed.push.blobs.skipped).toBeGreaterThan(0);
    // Every image is on the site by digest: verification stopped before the package's images.
    expect(installed.push.imagesRead).toBe(false);
    expect(installed.package.bytes).toBeLessThan((await stat(pkg)).size);
  });
});
