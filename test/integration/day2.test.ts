/**
 * The on-site life cycle end to end against the sandbox (real control plane, TLS registry
 * with auth): install → install of another package refused → upgrade (a resource removed,
 * an image and a Secret value changed) → status → a failing upgrade rolled back by its
 * app pipeline → rollback → uninstall. After each step the cluster (kubectl), the site
 * registry (skopeo) and the state (history) are checked by independent means.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SpecResource } from '../../src/runtimes/runtime.ts';
import { spawn } from 'node:child_process';
import { CLI, runCli, buildSigned, runCliOk, runProgram } from '../helpers/cli.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';
import { makeImage, pushImage, type Image, type RegistryTarget } from '../helpers/oci-images.ts';
import { unique } from '../helpers/release.ts';
import { configMap, deployment, k8s, namespace as namespaceResource } from '../unit/engine/resources.ts';

const env = () => inject('sandboxEnv');
const source = (): RegistryTarget => ({
  host: env().KDELIVER_SOURCE_REGISTRY!,
  ca: env().KDELIVER_SOURCE_REGISTRY_CA!,
});
const site = () => env().KDELIVER_REGISTRY!;

let work: string;
let project: string;
let ns: string;
let prefix: string;
let web1: Image;
let web2: Image;
let api: Image;
const packages: Record<string, string> = {};
const PASSWORD = { v1: 'first-db-password-4412', v2: 'second-db-password-9071' };

function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...env(), DOCKER_CONFIG: work };
}

function kdeliver(args: string[]) {
  return runCli([...args, '--state', join(work, 'state.db'), '--json'], { env: cliEnv() });
}

function installLike(command: 'install' | 'upgrade', pkg: string, extra: string[] = []) {
  return kdeliver([command, packages[pkg]!, '--key', join(work, 'kdeliver.pub'), '-y', ...extra]);
}

function skopeo(args: string[]) {
  const ca = env().KDELIVER_REGISTRY_CA!;
  return runProgram('skopeo', [
    args[0]!,
    '--cert-dir',
    ca.slice(0, ca.lastIndexOf('/')),
    '--creds',
    `${env().KDELIVER_REGISTRY_USER!}:${env().KDELIVER_REGISTRY_PASSWORD!}`,
    ...args.slice(1),
  ]);
}

function app(name: string, image: string, extensions?: Record<string, unknown>): SpecResource {
  const labels = { app: name };
  return deployment(ns, name, {
    dependsOn: [`v1:Namespace:${ns}`],
    ...(extensions ? { extensions } : {}),
    body: {
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name, image }] } },
      },
    },
  });
}

function dbSecret(password: string): SpecResource {
  return k8s('v1', 'Secret', ns, 'db', {
    dependsOn: [`v1:Namespace:${ns}`],
    body: { stringData: { password } },
  });
}

async function build(name: string, version: string, resources: SpecResource[]): Promise<void> {
  const spec = join(work, `${name}.json`);
  await writeFile(spec, JSON.stringify({ resources }));
  const file = join(work, `${name}.tar.zst`);
  await buildSigned(['--spec', `app=${spec}`, '--name', project], {
    keyDir: work,
    out: file,
    version,
    env: cliEnv(),
  });
  packages[name] = file;
}

interface HistoryJson {
  project: string;
  releases: { stack: string; revision: number; phase: string; package: string | null; resources: number }[];
}

async function history(): Promise<HistoryJson['releases']> {
  const result = await kdeliver(['history', project]);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as HistoryJson).releases.map(
    ({ stack, revision, phase, package: pkg, resources }) => ({
      stack,
      revision,
      phase,
      package: pkg,
      resources,
    }),
  );
}

async function siteImage(deploymentName: string): Promise<string> {
  const object = await kubectlJson(['get', 'deployment', deploymentName, '-n', ns]);
  return object.spec.template.spec.containers[0].image as string;
}

async function secretPassword(): Promise<string> {
  const secret = await kubectlJson(['get', 'secret', 'db', '-n', ns]);
  return Buffer.from(secret.data.password as string, 'base64').toString('utf8');
}

/** The project's Secret snapshots in kdeliver-system. */
async function snapshots(): Promise<string[]> {
  const listed = await kubectl([
    'get',
    'secrets',
    '-n',
    'kdeliver-system',
    '-l',
    'kdeliver.io/secrets',
    '-o',
    'name',
  ]);
  return listed.stdout.split('\n').filter((name) => name.includes(project));
}

async function exists(kind: string, name: string): Promise<boolean> {
  const result = await kubectl(['get', kind, name, '-n', ns, '-o', 'name']);
  return result.code === 0;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-day2-'));
  await writeFile(join(work, 'config.json'), '{"auths":{}}');
  project = unique('day2');
  ns = unique('day2');
  prefix = unique('day2');
  web1 = await makeImage({ os: 'linux', architecture: 'amd64' }, [24 * 1024]);
  web2 = await makeImage({ os: 'linux', architecture: 'amd64' }, [25 * 1024]);
  api = await makeImage({ os: 'linux', architecture: 'amd64' }, [300 * 1024]);
  await pushImage(source(), `${prefix}/web`, '1', [web1]);
  await pushImage(source(), `${prefix}/web`, '2', [web2]);
  await pushImage(source(), `${prefix}/api`, '1', [api]);
  await runCliOk(['keys', 'generate', '--out', work], { env: cliEnv() });

  const ref = (path: string) => `${source().host}/${prefix}/${path}`;
  const base = [
    namespaceResource(ns),
    configMap(ns, 'settings', { dependsOn: [`v1:Namespace:${ns}`], body: { data: { mode: 'a' } } }),
  ];
  const rollbackIfFailed = { kdeliver: { app: 'web', rollbackIfFailed: true } };
  await build('v1', '1.0.0', [
    ...base,
    configMap(ns, 'legacy', { dependsOn: [`v1:Namespace:${ns}`], body: { data: { old: 'yes' } } }),
    dbSecret(PASSWORD.v1),
    app('web', ref('web:1')),
    app('api', ref('api:1')),
  ]);
  await build('v2', '2.0.0', [
    ...base,
    dbSecret(PASSWORD.v2),
    app('web', ref('web:2')),
    app('api', ref('api:1')),
  ]);
  // v3 asks for a negative replica count, which the API server refuses; its app rolls back.
  const broken = app('web', ref('web:2'), rollbackIfFailed);
  (broken.attributes.spec as { replicas: number }).replicas = -1;
  await build('v3', '3.0.0', [...base, dbSecret(PASSWORD.v2), broken, app('api', ref('api:1'))]);
  // v4 changes a setting, and its web app needs a person's approval for any change.
  await build('v4', '4.0.0', [
    namespaceResource(ns),
    configMap(ns, 'settings', { dependsOn: [`v1:Namespace:${ns}`], body: { data: { mode: 'b' } } }),
    dbSecret(PASSWORD.v2),
    app('web', ref('web:2'), { kdeliver: { app: 'web', manualApprove: true } }),
    app('api', ref('api:1')),
  ]);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  await rm(work, { recursive: true, force: true });
});

describe('install, upgrade, rollback, uninstall', () => {
  it('installs the first package as revision 1 of a project named after it', async () => {
    const result = await installLike('install', 'v1');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      project: string;
      releases: { summary: { phase: string } }[];
    };
    expect(report.project).toBe(project);
    expect(report.releases).toMatchObject([{ stack: 'app', summary: { phase: 'succeeded', revision: 1 } }]);
    expect(await siteImage('web')).toBe(`${site()}/${prefix}/web@${web1.manifest.digest}`);
    expect(await secretPassword()).toBe(PASSWORD.v1);
    expect(await exists('configmap', 'legacy')).toBe(true);
    const inspected = await skopeo([
      'inspect',
      '--raw',
      `docker://${site()}/${prefix}/web@${web1.manifest.digest}`,
    ]);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(await history()).toEqual([
      { stack: 'app', revision: 1, phase: 'succeeded', package: `${project} 1.0.0`, resources: 7 },
    ]);
  });

  it('refuses to install another package over it, before pushing anything', async () => {
    const result = await installLike('install', 'v2');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe('ALREADY_INSTALLED');
    const tags = await skopeo(['list-tags', `docker://${site()}/${prefix}/web`]);
    expect(JSON.parse(tags.stdout).Tags).toEqual(['1']);
  });

  it('upgrades: pushes only the new image, prunes the removed resource, changes the Secret', async () => {
    const result = await installLike('upgrade', 'v2');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      push: { images: unknown[]; bytes: { pushed: number; skipped: number } };
    };
    // api's 300 KiB layer is already there; only web:2 (25 KiB layer, config, manifest) goes.
    expect(report.push.bytes.pushed).toBeLessThan(100 * 1024);
    expect(report.push.bytes.skipped).toBeGreaterThan(300 * 1024);
    expect(await siteImage('web')).toBe(`${site()}/${prefix}/web@${web2.manifest.digest}`);
    expect(await siteImage('api')).toBe(`${site()}/${prefix}/api@${api.manifest.digest}`);
    expect(await secretPassword()).toBe(PASSWORD.v2);
    expect(await exists('configmap', 'legacy')).toBe(false);
    expect((await history())[0]).toEqual({
      stack: 'app',
      revision: 2,
      phase: 'succeeded',
      package: `${project} 2.0.0`,
      resources: 6,
    });
  });

  it('reports every resource healthy', async () => {
    const result = await kdeliver(['status', project]);
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as {
      healthy: boolean;
      resources: { name: string; health: string }[];
    };
    expect(status.resources.map((r) => r.name).sort()).toEqual(
      ['api', 'db', 'kdeliver-registry', ns, 'settings', 'web'].sort(),
    );
    expect(status.healthy).toBe(true);
  });

  it('watches: a resource deleted behind its back shows up as missing, and Ctrl-C ends the watch cleanly', async () => {
    const watch = spawn(
      process.execPath,
      [CLI, 'status', project, '--watch', '--interval', '1', '--state', join(work, 'state.db'), '--json'],
      { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: { healthy: boolean; resources: { name: string; health: string }[] }[] = [];
    let buffered = '';
    watch.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop()!;
      for (const line of complete) if (line.trim()) lines.push(JSON.parse(line));
    });
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 240 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 250));
      expect(done()).toBe(true);
    };
    await until(() => lines.length === 1);
    expect(lines[0]!.healthy).toBe(true);
    await kubectl(['delete', 'configmap', 'settings', '-n', ns]);
    await until(() => lines.length === 2);
    expect(lines[1]!.healthy).toBe(false);
    expect(lines[1]!.resources.find((r) => r.name === 'settings')?.health).toBe('missing');
    const exited = new Promise<number | null>((resolve) => watch.on('close', resolve));
    watch.kill('SIGINT');
    expect(await exited).toBe(0);
    // Without --watch, an unhealthy project is exit 9, with the same report.
    const once = await kdeliver(['status', project]);
    expect(once.code, once.stderr).toBe(9);
    expect(JSON.parse(once.stdout)).toMatchObject({ healthy: false });
  });

  it('rolls a failed upgrade back to the previous revision when the app pipeline says rollbackIfFailed', async () => {
    const result = await installLike('upgrade', 'v3');
    expect(result.code, result.stdout).toBe(7);
    const error = JSON.parse(result.stdout).error as { code: string; message: string };
    expect(error.code).toBe('INSTALL_FAILED');
    expect(error.message).toContain('rolled back to revision 2');
    expect(await siteImage('web')).toBe(`${site()}/${prefix}/web@${web2.manifest.digest}`);
    const deploymentObject = await kubectlJson(['get', 'deployment', 'web', '-n', ns]);
    expect(deploymentObject.spec.replicas).toBe(1);
    expect((await history()).slice(0, 3).map(({ revision, phase }) => [revision, phase])).toEqual([
      [4, 'succeeded'],
      [3, 'rolled-back'],
      [2, 'succeeded'],
    ]);
  });

  it('asks a person when an app pipeline says manualApprove, even with --yes', async () => {
    const result = await installLike('upgrade', 'v4');
    expect(result.code, result.stdout).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe('APPROVAL_NEEDS_TERMINAL');
    expect((await history())[0]!.revision).toBe(4);
  });

  it('rolls back to revision 1 with its Secret value restored from the cluster', async () => {
    const result = await kdeliver(['rollback', project, '--to', '1', '-y']);
    expect(result.code, result.stderr).toBe(0);
    expect(await siteImage('web')).toBe(`${site()}/${prefix}/web@${web1.manifest.digest}`);
    expect(await secretPassword()).toBe(PASSWORD.v1);
    expect(await exists('configmap', 'legacy')).toBe(true);
    expect((await history()).slice(0, 2)).toEqual([
      { stack: 'app', revision: 5, phase: 'succeeded', package: `${project} 1.0.0`, resources: 7 },
      { stack: 'app', revision: 4, phase: 'rolled-back', package: `${project} 2.0.0`, resources: 6 },
    ]);
    const state = await readFile(join(work, 'state.db'));
    for (const password of Object.values(PASSWORD)) expect(state.includes(Buffer.from(password))).toBe(false);
    // The values live in the cluster only: a snapshot per set of Secret values (v1 and v2).
    expect(await snapshots()).toHaveLength(2);
  });

  it('uninstalls: the namespace goes, the images stay, the history keeps it', async () => {
    const result = await kdeliver(['uninstall', project, '-y']);
    expect(result.code, result.stderr).toBe(0);
    const gone = await kubectl(['get', 'namespace', ns, '-o', 'jsonpath={.status.phase}']);
    expect(gone.code !== 0 || gone.stdout === 'Terminating').toBe(true);
    const tags = await skopeo(['list-tags', `docker://${site()}/${prefix}/web`]);
    expect(JSON.parse(tags.stdout).Tags.sort()).toEqual(['1', '2']);
    expect((await history())[0]).toMatchObject({ revision: 6, phase: 'succeeded', resources: 0 });
    expect(await snapshots()).toEqual([]);
    const status = await kdeliver(['rollback', project, '-y']);
    expect(JSON.parse(status.stdout).error.code).toBe('NOTHING_INSTALLED');
  });
});

describe('uninstall --prune-images', () => {
  it('deletes the images only the project ran from the site registry, and keeps the rest', async () => {
    const installed = await installLike('install', 'v1');
    expect(installed.code, installed.stderr).toBe(0);
    const result = await kdeliver(['uninstall', project, '-y', '--prune-images']);
    expect(result.code, result.stderr).toBe(0);
    const pruned = (JSON.parse(result.stdout) as { pruned: { repository: string; digest: string }[] }).pruned;
    expect(pruned.map(({ repository, digest }) => `${repository}@${digest}`).sort()).toEqual(
      [`${prefix}/api@${api.manifest.digest}`, `${prefix}/web@${web1.manifest.digest}`].sort(),
    );
    const gone = await skopeo([
      'inspect',
      '--raw',
      `docker://${site()}/${prefix}/web@${web1.manifest.digest}`,
    ]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/manifest unknown|not found/i);
    // web:2 belonged to no release still installed, but it was not this uninstall's to delete.
    const kept = await skopeo(['inspect', '--raw', `docker://${site()}/${prefix}/web:2`]);
    expect(kept.code, kept.stderr).toBe(0);
  });
});
