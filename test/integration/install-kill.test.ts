/**
 * Issue #7: `kdeliver install` killed with SIGKILL while it applies a stack resumes when
 * it is run again. The killed run leaves its release in the state as in progress and its
 * Lease in the cluster; the rerun takes the Lease over at once (its holder was a process
 * of this user on this machine that no longer runs), records the interrupted release as
 * failed, and applies everything in a new release. A run killed on another machine
 * cannot be detected as dead from here: its Lease refuses the rerun, naming the holder
 * and the command that removes the lock, until the engineer runs that command.
 * kubectl checks the cluster.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { leaseName } from '../../src/state/lease-lock.ts';
import { SYSTEM_NAMESPACE } from '../../src/state/system-namespace.ts';
import { CLI, runCli, buildSigned, runCliOk, type CliResult } from '../helpers/cli.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';
import { makeImage, pushImage, type RegistryTarget } from '../helpers/oci-images.ts';
import { unique } from '../helpers/release.ts';

const env = () => inject('sandboxEnv');
const source = (): RegistryTarget => ({
  host: env().KDELIVER_SOURCE_REGISTRY!,
  ca: env().KDELIVER_SOURCE_REGISTRY_CA!,
});

/** Deployments in a dependency chain: each is applied once the one before is healthy, so apply takes a while. */
const DEPLOYMENTS = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];

interface HistoryJson {
  project: string;
  releases: { stack: string; revision: number; phase: string; error?: string }[];
}

let work: string;
let image: string;
let child: ReturnType<typeof spawn> | undefined;
const namespaces: string[] = [];
const stacks: string[] = [];

function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...env(), DOCKER_CONFIG: work };
}

/** A package of its own per case: a namespace and a chain of Deployments, in stack `stack`. */
class Case {
  readonly stack: string;
  readonly project: string;
  readonly ns: string;
  readonly dir: string;
  readonly pkg: string;

  constructor(name: string) {
    // unique() is by the clock: the case's name keeps two cases made at once apart.
    this.stack = unique(`kill-${name}`);
    this.project = unique(`killed-${name}`);
    this.ns = unique(`kill-${name}`);
    this.dir = join(work, name);
    this.pkg = join(this.dir, 'app.tar.zst');
    namespaces.push(this.ns);
    stacks.push(this.stack);
  }

  get state(): string {
    return join(this.dir, 'state.db');
  }

  get lease(): string[] {
    return ['lease', leaseName(this.stack), '-n', SYSTEM_NAMESPACE];
  }

  async build(): Promise<this> {
    await mkdir(this.dir);
    const namespaceId = `v1:Namespace:${this.ns}`;
    const deploymentId = (name: string) => `apps/v1:Deployment:${this.ns}:${name}`;
    const resources = [
      {
        id: namespaceId,
        type: 'Kubernetes',
        attributes: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.ns } },
      },
      ...DEPLOYMENTS.map((name, i) => ({
        id: deploymentId(name),
        type: 'Kubernetes',
        attributes: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { namespace: this.ns, name },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              spec: { containers: [{ name, image }] },
            },
          },
        },
        dependsOn: [i === 0 ? namespaceId : deploymentId(DEPLOYMENTS[i - 1]!)],
      })),
    ];
    // The spec file's name is the stack's.
    const specFile = join(this.dir, `${this.stack}.yaml`);
    await writeFile(specFile, stringify({ resources }));
    await buildSigned(['--spec', specFile], { keyDir: work, out: this.pkg, env: cliEnv() });
    return this;
  }

  installArgs(): string[] {
    return [
      'install',
      this.pkg,
      '--key',
      join(work, 'kdeliver.pub'),
      '--state',
      this.state,
      '--project',
      this.project,
      '-y',
      '--json',
    ];
  }

  install(): Promise<CliResult> {
    return runCli(this.installArgs(), { env: cliEnv() });
  }

  /** Starts the install and kills it with SIGKILL once the cluster shows the release's first object. */
  async installKilled(): Promise<number> {
    const started = spawn(process.execPath, [CLI, ...this.installArgs()], {
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let stderr = '';
    started.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = new Promise<void>((resolve) => started.on('close', () => resolve()));
    for (;;) {
      if (started.exitCode !== null) throw new Error(`install ended before the kill: ${stderr}`);
      if ((await kubectl(['get', 'namespace', this.ns])).code === 0) break;
      await sleep(20);
    }
    started.kill('SIGKILL');
    await ended;
    expect(started.signalCode).toBe('SIGKILL');
    // Killed mid-apply: not every Deployment exists yet, and the killed run's Lease is left behind.
    const partial = await kubectlJson(['get', 'deployments', '-n', this.ns]);
    expect(partial.items.length).toBeLessThan(DEPLOYMENTS.length);
    const lease = await kubectlJson(['get', ...this.lease]);
    expect(lease.spec.holderIdentity).toMatch(new RegExp(` pid ${started.pid} `));
    return started.pid!;
  }

  /** The rerun's outcome: the interrupted release failed, a later one succeeded, every object there. */
  async expectResumed(rerun: CliResult): Promise<void> {
    expect(rerun.code, rerun.stderr).toBe(0);
    const installed = JSON.parse(rerun.stdout) as {
      releases: { stack: string; summary: { phase: string } }[];
    };
    expect(installed.releases).toMatchObject([{ stack: this.stack, summary: { phase: 'succeeded' } }]);

    const history = await runCli(['history', this.project, '--state', this.state, '--json'], {
      env: cliEnv(),
    });
    expect(history.code, history.stderr).toBe(0);
    const { releases } = JSON.parse(history.stdout) as HistoryJson;
    expect(releases.map(({ stack, revision, phase }) => ({ stack, revision, phase }))).toEqual([
      { stack: this.stack, revision: 2, phase: 'succeeded' },
      { stack: this.stack, revision: 1, phase: 'failed' },
    ]);
    expect(releases[1]!.error).toMatch(/^interrupted: the run ended before it finished/);

    await kubectlJson(['get', 'namespace', this.ns]);
    for (const name of DEPLOYMENTS) {
      const deployment = await kubectlJson(['get', 'deployment', name, '-n', this.ns]);
      expect(deployment.spec.template.spec.containers[0].image).toMatch(
        new RegExp(`^${env().KDELIVER_REGISTRY!}/.+@sha256:[0-9a-f]{64}$`),
      );
    }
    // The rerun released its Lease.
    const after = await kubectl(['get', ...this.lease]);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/NotFound/);
  }
}

let sameMachine: Case;
let otherMachine: Case;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-kill-'));
  await writeFile(join(work, 'config.json'), '{"auths":{}}');
  const prefix = unique('kill');
  await pushImage(source(), `${prefix}/app`, '1', [
    await makeImage({ os: 'linux', architecture: 'amd64' }, [16 * 1024]),
  ]);
  image = `${source().host}/${prefix}/app:1`;
  await runCliOk(['keys', 'generate', '--out', work], { env: cliEnv() });
  [sameMachine, otherMachine] = await Promise.all([new Case('here').build(), new Case('away').build()]);
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const ns of namespaces) await kubectl(['delete', 'namespace', ns, '--wait=false']);
  for (const stack of stacks)
    await kubectl(['delete', 'lease', leaseName(stack), '-n', SYSTEM_NAMESPACE, '--ignore-not-found']);
  await rm(work, { recursive: true, force: true });
});

describe('kill -9 during the apply of an install', () => {
  it("resumes on rerun: the dead run's Lease is taken over, its release recorded failed, a new one succeeds", async () => {
    await sameMachine.installKilled();
    // Not refused: the Lease's holder was a process of this user on this machine, and it is gone.
    await sameMachine.expectResumed(await sameMachine.install());
  });

  it('refuses the rerun while a run killed on another machine holds the Lease, until it is unlocked as told', async () => {
    const c = otherMachine;
    await c.installKilled();
    // The same as a run killed on another machine: a live-looking holder this machine cannot check.
    const holder = 'ops@other-host pid 4242 (abc123)';
    const patched = await kubectl([
      'patch',
      ...c.lease,
      '--type',
      'merge',
      '-p',
      JSON.stringify({
        spec: { holderIdentity: holder, renewTime: new Date().toISOString().replace('Z', '000Z') },
      }),
    ]);
    expect(patched.code, patched.stderr).toBe(0);

    const refused = await c.install();
    expect(refused.code, refused.stderr).toBe(8);
    const { error } = JSON.parse(refused.stdout) as {
      error: { code: string; message: string; hint: string };
    };
    expect(error.code).toBe('STACK_LOCKED');
    expect(error.message).toContain(`stack "${c.stack}" is locked by ${holder}`);
    const told = `kdeliver state unlock --stack ${c.stack} --force`;
    expect(error.hint).toContain(told);

    // What the engineer is told to do, once sure the holder is gone.
    const unlocked = await runCli([...told.split(' ').slice(1), '--kubeconfig', env().KUBECONFIG!], {
      env: cliEnv(),
    });
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.stderr).toContain(`held by ${holder}`);
    await c.expectResumed(await c.install());
  });
});
