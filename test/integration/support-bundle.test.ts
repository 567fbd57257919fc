/**
 * `kdeliver support-bundle` against the sandbox: a small project with Secrets is installed,
 * the bundle is written and unpacked with the system tar (an independent reader), and its
 * files are checked against the cluster (kubectl) and the CLI's own status. No value of any
 * Secret of the project may appear anywhere: not in the archive's bytes, not in the tar
 * stream inside, not in any extracted file.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import type { SpecResource } from '../../src/runtimes/runtime.ts';
import { runCli, buildSigned, runCliOk, runProgram } from '../helpers/cli.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';
import { makeImage, pushImage } from '../helpers/oci-images.ts';
import { unique } from '../helpers/release.ts';
import { configMap, deployment, k8s, namespace as namespaceResource } from '../unit/engine/resources.ts';

const env = () => inject('sandboxEnv');

let work: string;
let project: string;
let ns: string;
const DB_PASSWORD = 'bundle-db-password-5531';
const API_TOKEN = 'bundle-api-token-8842';

interface Report {
  file: string;
  project: string;
  entries: number;
  namespaces: string[];
  preflight: { name: string; result: string; detail: string }[];
  errors: { entry: string; message: string }[];
}

function cliEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...env(), DOCKER_CONFIG: work, ...overrides };
}

function supportBundle(output: string, extra: string[] = [], environment = cliEnv()) {
  return runCli(
    ['support-bundle', project, '-o', output, '--state', join(work, 'state.db'), '--json', ...extra],
    {
      env: environment,
    },
  );
}

/** Unpacks with the system tar into a fresh directory; returns it and the entry names in archive order. */
async function unpack(file: string): Promise<{ dir: string; names: string[] }> {
  const dir = await mkdtemp(join(work, 'unpacked-'));
  const extracted = await runProgram('tar', ['-xzf', file, '-C', dir]);
  expect(extracted.code, extracted.stderr).toBe(0);
  const listed = await runProgram('tar', ['-tzf', file]);
  return { dir, names: listed.stdout.split('\n').filter(Boolean) };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Every value of every Secret in the project's namespace, as text and as the base64 the API returns. */
async function secretValues(): Promise<string[]> {
  const secrets = await kubectlJson(['get', 'secrets', '-n', ns]);
  const values: string[] = [env().KDELIVER_REGISTRY_PASSWORD!];
  for (const secret of secrets.items as { data?: Record<string, string> }[]) {
    for (const encoded of Object.values(secret.data ?? {})) {
      values.push(encoded, Buffer.from(encoded, 'base64').toString('utf8'));
    }
  }
  return values;
}

async function readYaml(path: string): Promise<unknown> {
  return parse(await readFile(path, 'utf8'));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-support-'));
  await writeFile(join(work, 'config.json'), '{"auths":{}}');
  project = unique('bundle');
  ns = unique('bundle');
  const prefix = unique('bundle');
  const source = { host: env().KDELIVER_SOURCE_REGISTRY!, ca: env().KDELIVER_SOURCE_REGISTRY_CA! };
  await pushImage(source, `${prefix}/web`, '1', [
    await makeImage({ os: 'linux', architecture: 'amd64' }, [1024]),
  ]);
  await runCliOk(['keys', 'generate', '--out', work], { env: cliEnv() });

  const inNamespace = { dependsOn: [`v1:Namespace:${ns}`] };
  const labels = { app: 'web' };
  const resources: SpecResource[] = [
    namespaceResource(ns),
    configMap(ns, 'settings', { ...inNamespace, body: { data: { mode: 'a' } } }),
    k8s('v1', 'Secret', ns, 'db', { ...inNamespace, body: { stringData: { password: DB_PASSWORD } } }),
    k8s('v1', 'Secret', ns, 'api', {
      ...inNamespace,
      body: { data: { token: Buffer.from(API_TOKEN).toString('base64') } },
    }),
    deployment(ns, 'web', {
      ...inNamespace,
      body: {
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'web', image: `${source.host}/${prefix}/web:1` }] },
          },
        },
      },
    }),
  ];
  const spec = join(work, 'app.json');
  await writeFile(spec, JSON.stringify({ resources }));
  const pkg = join(work, 'app.tar.zst');
  await buildSigned(['--spec', `app=${spec}`, '--name', project], { keyDir: work, out: pkg, env: cliEnv() });
  const installed = await runCli(
    ['install', pkg, '--key', join(work, 'kdeliver.pub'), '-y', '--state', join(work, 'state.db'), '--json'],
    { env: cliEnv() },
  );
  if (installed.code !== 0) throw new Error(installed.stdout + installed.stderr);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  await rm(work, { recursive: true, force: true });
});

describe('kdeliver support-bundle', () => {
  it('writes one tar.gz with state, releases, resources, status, events, pods, logs and preflight', async () => {
    const file = join(work, 'bundle.tar.gz');
    const result = await supportBundle(file);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.project).toBe(project);
    expect(report.namespaces).toEqual([ns]);

    const { dir, names } = await unpack(file);
    expect(names[0]).toBe('bundle.json');
    expect(names.slice(1)).toEqual([...names.slice(1)].sort());
    expect(names).toHaveLength(report.entries);

    const manifest = JSON.parse(await readFile(join(dir, 'bundle.json'), 'utf8'));
    expect(manifest).toMatchObject({
      kdeliver: expect.any(String),
      project,
      namespaces: [ns],
      tailLines: 200,
    });
    expect(manifest.entries).toEqual(names.slice(1));
    expect(manifest.errors).toEqual(report.errors);

    // The state file as it is on disk.
    expect(await readFile(join(dir, 'state.db'))).toEqual(await readFile(join(work, 'state.db')));
    const releases = JSON.parse(await readFile(join(dir, 'releases.json'), 'utf8'));
    expect(releases.stacks).toHaveLength(1);
    expect(releases.stacks[0].releases).toMatchObject([{ stack: 'app', revision: 1, phase: 'succeeded' }]);
    expect(releases.stacks[0].journal.records.length).toBeGreaterThan(0);

    // Every recorded resource, read live: Secret values as digests, no managedFields.
    const resources = join(dir, 'resources', 'app');
    const db = (await readYaml(join(resources, 'Secret', ns, 'db.yaml'))) as {
      data: Record<string, string>;
      metadata: Record<string, unknown>;
    };
    expect(db.data.password).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(db.metadata.managedFields).toBeUndefined();
    const api = (await readYaml(join(resources, 'Secret', ns, 'api.yaml'))) as {
      data: Record<string, string>;
    };
    expect(api.data.token).toMatch(/^sha256:[0-9a-f]{64}$/);
    const web = (await readYaml(join(resources, 'Deployment', ns, 'web.yaml'))) as {
      status: { availableReplicas: number };
    };
    expect(web.status.availableReplicas).toBe(1);
    expect(await readYaml(join(resources, 'Namespace', '_cluster', `${ns}.yaml`))).toMatchObject({
      metadata: { name: ns },
    });
    expect(names).not.toContain('resources/missing.txt');

    // status.json is what `kdeliver status --json` says.
    const status = await runCli(['status', project, '--state', join(work, 'state.db'), '--json'], {
      env: cliEnv(),
    });
    expect(JSON.parse(await readFile(join(dir, 'status.json'), 'utf8'))).toEqual(JSON.parse(status.stdout));

    // The namespace's pods and events, and a log entry (or its error) for each container.
    const pods = (await readYaml(join(dir, 'pods', `${ns}.yaml`))) as {
      name: string;
      status: { phase: string };
    }[];
    expect(pods).toHaveLength(1);
    expect(pods[0]!.status.phase).toBe('Running');
    const events = (await readYaml(join(dir, 'events', `${ns}.yaml`))) as { reason: string }[];
    expect(events.map((event) => event.reason)).toContain('Scheduled');
    const log = `logs/${ns}/${pods[0]!.name}/web.log`;
    // kwok's simulated node runs no containers: the log request fails, and the bundle says why.
    const logError = report.errors.find((error) => error.entry === log);
    expect(names.includes(log) || logError !== undefined).toBe(true);
    if (logError) expect(logError.message).not.toBe('');

    const preflight = JSON.parse(await readFile(join(dir, 'preflight.json'), 'utf8'));
    expect(preflight.map(({ name, result }: { name: string; result: string }) => [name, result])).toEqual([
      ['api-server', 'passed'],
      ['rbac', 'passed'],
      ['registry', 'passed'],
      ['disk', 'passed'],
      ['storage-class', 'passed'],
    ]);

    // No Secret value anywhere: the gzip bytes, the tar stream, any file, the command's output.
    const values = await secretValues();
    expect(values).toEqual(expect.arrayContaining([DB_PASSWORD, API_TOKEN]));
    const archive = await readFile(file);
    const blobs = [archive, gunzipSync(archive), Buffer.from(result.stdout + result.stderr)];
    for (const path of await filesUnder(dir)) blobs.push(await readFile(path));
    for (const value of values)
      for (const blob of blobs)
        expect(blob.includes(Buffer.from(value)), `a Secret value leaked`).toBe(false);
  });

  it('lists a deleted resource as missing, and skips the registry check without a registry', async () => {
    const deleted = await kubectl(['delete', 'configmap', 'settings', '-n', ns]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const file = join(work, 'missing.tar.gz');
    const environment = cliEnv();
    delete environment.KDELIVER_REGISTRY;
    const result = await supportBundle(file, ['--tail', '5'], environment);
    expect(result.code, result.stderr).toBe(0);
    const { dir } = await unpack(file);
    expect(await readFile(join(dir, 'resources', 'missing.txt'), 'utf8')).toBe(
      `app v1:ConfigMap:${ns}:settings\n`,
    );
    const preflight = JSON.parse(await readFile(join(dir, 'preflight.json'), 'utf8'));
    expect(preflight).toContainEqual({ name: 'registry', result: 'skipped', detail: 'no --registry given' });
    const status = JSON.parse(await readFile(join(dir, 'status.json'), 'utf8'));
    expect(status.healthy).toBe(false);
  });

  it('still writes the bundle when the cluster cannot be reached, noting what it could not collect', async () => {
    const kubeconfig = await readFile(env().KUBECONFIG!, 'utf8');
    const unreachable = join(work, 'unreachable.kubeconfig');
    await writeFile(
      unreachable,
      kubeconfig.replace(/server: https:\/\/[^\s]+/, 'server: https://127.0.0.1:9'),
    );
    const file = join(work, 'offline.tar.gz');
    const result = await supportBundle(file, ['--kubeconfig', unreachable]);
    expect(result.code, result.stderr).toBe(0);
    const { dir, names } = await unpack(file);
    expect(names).toEqual(['bundle.json', 'preflight.json', 'releases.json', 'state.db']);
    const manifest = JSON.parse(await readFile(join(dir, 'bundle.json'), 'utf8'));
    expect(manifest.errors.map(({ entry }: { entry: string }) => entry)).toEqual([
      'events/',
      'logs/',
      'pods/',
      'resources/',
      'status.json',
    ]);
    const preflight = JSON.parse(await readFile(join(dir, 'preflight.json'), 'utf8'));
    expect(preflight[0]).toMatchObject({ name: 'api-server', result: 'failed' });
  });

  it('refuses a project the state does not have, and writes nothing', async () => {
    const file = join(work, 'none.tar.gz');
    const result = await runCli(
      ['support-bundle', 'no-such-project', '-o', file, '--state', join(work, 'state.db'), '--json'],
      { env: cliEnv() },
    );
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout).error.code).toBe('PROJECT_NOT_INSTALLED');
    expect((await readdir(work)).filter((name) => name.includes('none.tar.gz'))).toEqual([]);
  });
});
