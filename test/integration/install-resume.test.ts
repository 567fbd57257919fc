/**
 * Issue #7: an install whose push is cut off by the site registry going away resumes.
 * The registry is a private one (the sandbox's code, certificate and CA) so that this
 * test can kill and restart it without disturbing the shared sandbox registry.
 *
 * What happens: the running install rides out the outage itself (its requests are
 * retried with backoff until the registry answers again). docker-registry does not resume
 * an upload whose data stopped mid-request (it answers BLOB_UPLOAD_INVALID and drops it),
 * so the client reads that blob from the package again and uploads it anew; blobs
 * committed before the outage stay. skopeo, an independent client, then copies the image
 * out and checks every digest. Before that, Ctrl-C in the middle of the push stops it
 * without committing anything half-sent.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { CLI, buildSigned, runCliOk, runProgram, type CliResult } from '../helpers/cli.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';
import { makeImage, pushImage, type Image, type RegistryTarget } from '../helpers/oci-images.ts';
import { PrivateRegistry } from '../helpers/private-registry.ts';
import { deployment, namespace, unique } from '../helpers/release.ts';

const env = () => inject('sandboxEnv');
const source = (): RegistryTarget => ({
  host: env().KDELIVER_SOURCE_REGISTRY!,
  ca: env().KDELIVER_SOURCE_REGISTRY_CA!,
});

/** Two big layers: the first is committed before the outage, the second is cut off midway. */
const LAYER_BYTES = 64 * 1024 * 1024;

interface InstallJson {
  push: {
    images: { siteReference: string }[];
    blobs: { pushed: number; mounted: number; skipped: number };
    bytes: { pushed: number; skipped: number };
  };
  releases: { stack: string; summary: { phase: string } }[];
}

let work: string;
let registry: PrivateRegistry | undefined;
let pkg: string;
let prefix: string;
let ns: string;
let image: Image;
let child: ReturnType<typeof spawn> | undefined;

function site(): PrivateRegistry {
  if (!registry) throw new Error('the private registry did not start');
  return registry;
}

function cliEnv(): NodeJS.ProcessEnv {
  const { endpoint } = site();
  return {
    ...process.env,
    ...env(),
    DOCKER_CONFIG: work,
    KDELIVER_REGISTRY: endpoint.host,
    KDELIVER_REGISTRY_CA: endpoint.ca,
    KDELIVER_REGISTRY_USER: endpoint.user!,
    KDELIVER_REGISTRY_PASSWORD: endpoint.password!,
  };
}

function installArgs(): string[] {
  return [
    'install',
    pkg,
    '--key',
    join(work, 'kdeliver.pub'),
    '--state',
    join(work, 'state.db'),
    '-y',
    '--json',
  ];
}

/** Starts `kdeliver install` as a child process; resolves with its result when it exits. */
function startInstall(): Promise<CliResult> {
  const started = spawn(process.execPath, [CLI, ...installArgs()], {
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  let stdout = '';
  let stderr = '';
  started.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  started.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    started.on('error', reject);
    started.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** skopeo against the private registry: `inspect`, or `copy` from it. */
function skopeo(args: string[]): Promise<CliResult> {
  const { endpoint } = site();
  const flag = args[0] === 'copy' ? '--src-' : '--';
  return runProgram('skopeo', [
    ...args.slice(0, 1),
    `${flag}cert-dir`,
    join(endpoint.ca, '..'),
    `${flag}creds`,
    `${endpoint.user!}:${endpoint.password!}`,
    ...args.slice(1),
  ]);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-resume-'));
  await writeFile(join(work, 'config.json'), '{"auths":{}}');
  registry = await PrivateRegistry.start(inject('sandboxDir'), join(work, 'registry'));
  prefix = unique('resume');
  ns = unique('resume');
  image = await makeImage({ os: 'linux', architecture: 'amd64' }, [LAYER_BYTES, LAYER_BYTES]);
  await pushImage(source(), `${prefix}/big`, '1', [image]);

  // The spec file's name is the stack's: unique, since stack locks are site-wide.
  const specFile = join(work, `${ns}.yaml`);
  const resources = [
    namespace(ns),
    { ...deployment(ns, 'big', `${source().host}/${prefix}/big:1`), dependsOn: [`v1:Namespace:${ns}`] },
  ];
  await writeFile(specFile, stringify({ resources }));
  await runCliOk(['keys', 'generate', '--out', work], { env: cliEnv() });
  pkg = join(work, 'big.tar.zst');
  await buildSigned(['--spec', specFile], { keyDir: work, out: pkg, env: cliEnv() });
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await registry?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  await rm(work, { recursive: true, force: true });
});

describe('an install whose registry goes away during the push', () => {
  /** Resolves once a big layer is partly uploaded (and not committed). */
  async function uploadUnderWay(running: Promise<CliResult>): Promise<void> {
    const layers = image.layers.map((layer) => layer.digest);
    for (;;) {
      if (child!.exitCode !== null) {
        const early = await running;
        throw new Error(`install ended too early (exit ${early.code}): ${early.stderr}`);
      }
      const committed = await site().committedBlobs();
      const uploading = await site().uploadingBytes(prefix);
      // At least 1 MB: the upload of a layer, not of the small config blob.
      if (layers.some((digest) => !committed.has(digest)) && uploading >= 1024 * 1024) return;
      await sleep(10);
    }
  }

  it('stops at Ctrl-C during the push with exit 10, committing nothing half-sent', async () => {
    const running = startInstall();
    await uploadUnderWay(running);
    child!.kill('SIGINT');
    const result = await running;
    expect(result.code, result.stderr).toBe(10);
    expect(JSON.parse(result.stdout).error).toMatchObject({ kind: 'aborted', code: 'INTERRUPTED_BY_USER' });
    // Nothing half-sent was committed (the next test's install pushes the rest).
    const committed = await site().committedBlobs();
    expect(image.layers.some((layer) => !committed.has(layer.digest))).toBe(true);
  });

  it('completes once the registry is back', async () => {
    const layers = image.layers.map((layer) => layer.digest);
    const running = startInstall();
    await uploadUnderWay(running);
    const committedAtKill = await site().committedBlobs();
    await site().kill();
    await site().restart();

    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    const installed = JSON.parse(result.stdout) as InstallJson;
    const total = image.layers.reduce((sum, layer) => sum + layer.size, image.config.size);
    expect(installed.push.bytes.pushed + installed.push.bytes.skipped).toBe(total);
    expect(installed.releases).toMatchObject([{ summary: { phase: 'succeeded' } }]);
    const committed = await site().committedBlobs();
    for (const digest of [...layers, image.config.digest]) expect(committed.has(digest)).toBe(true);
    expect(layers.some((digest) => !committedAtKill.has(digest))).toBe(true);

    const siteReference = `${site().endpoint.host}/${prefix}/big@${image.manifest.digest}`;
    expect(installed.push.images.map((pushed) => pushed.siteReference)).toEqual([siteReference]);
    expect(installed.releases).toMatchObject([{ summary: { phase: 'succeeded' } }]);

    // skopeo reads the manifest back byte for byte, and copies the whole image out,
    // checking each blob against its digest.
    const raw = await skopeo(['inspect', '--raw', `docker://${siteReference}`]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toBe(image.manifest.data.toString());
    const copyDir = join(work, 'copy');
    const copied = await skopeo(['copy', `docker://${siteReference}`, `dir:${copyDir}`]);
    expect(copied.code, copied.stderr).toBe(0);
    for (const layer of image.layers) {
      const bytes = await readFile(join(copyDir, layer.digest.slice('sha256:'.length)));
      expect(bytes.equals(layer.data)).toBe(true);
    }

    const deployment = await kubectlJson(['get', 'deployment', 'big', '-n', ns]);
    expect(deployment.spec.template.spec.containers[0].image).toBe(siteReference);
  });
});
