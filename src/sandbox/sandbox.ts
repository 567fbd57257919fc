import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { KdeliverError, messageOf } from '../errors.ts';
import { runTasks, type OutputMode } from '../ui/progress.ts';
import { ensureDebianTool } from '../util/debian.ts';
import { runCommand } from '../util/exec.ts';
import { resolveBinaries, type SandboxBinaries } from './binaries.ts';
import {
  startApiServer,
  startControllers,
  startEtcd,
  startNodeSimulator,
  writeKubeconfig,
  type ControlPlaneContext,
} from './control-plane.ts';
import { createPki, type SandboxPki } from './pki.ts';
import { isRunning, stopDaemon, type TrackedProcess } from './processes.ts';
import { startRegistry, type RegistryEndpoint } from './registry.ts';
import { SANDBOX_VERSIONS } from './versions.ts';

/** Everything `sandbox env` and `sandbox down` need, kept in DIR/sandbox.json. */
export interface SandboxState {
  dir: string;
  startedAt: string;
  versions: Record<string, string>;
  kubeconfig: string;
  apiServer: string;
  /** The site registry: TLS and basic auth. */
  registry: RegistryEndpoint;
  /** A second registry without auth, standing in for the vendor's source registry. */
  sourceRegistry: RegistryEndpoint;
  processes: TrackedProcess[];
}

export interface SandboxUpResult {
  state: SandboxState;
  alreadyRunning: boolean;
  startSeconds: number;
}

const STATE_FILE = 'sandbox.json';

export async function readSandboxState(dir: string): Promise<SandboxState | undefined> {
  try {
    return JSON.parse(await readFile(join(resolve(dir), STATE_FILE), 'utf8')) as SandboxState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KdeliverError(
      'input',
      'SANDBOX_STATE_UNREADABLE',
      `cannot read ${join(dir, STATE_FILE)}: ${messageOf(error)}`,
      {
        hint: 'Run `kdeliver sandbox down` on that directory, then `kdeliver sandbox up` again.',
      },
    );
  }
}

export function isSandboxRunning(state: SandboxState): boolean {
  return state.processes.length > 0 && state.processes.every(isRunning);
}

/** The variables later commands and tests read as defaults for --kubeconfig and --registry*. */
export function sandboxEnv(state: SandboxState): Record<string, string> {
  return {
    KUBECONFIG: state.kubeconfig,
    KDELIVER_REGISTRY: state.registry.host,
    KDELIVER_REGISTRY_CA: state.registry.ca,
    KDELIVER_REGISTRY_USER: state.registry.user ?? '',
    KDELIVER_REGISTRY_PASSWORD: state.registry.password ?? '',
    KDELIVER_SOURCE_REGISTRY: state.sourceRegistry.host,
    KDELIVER_SOURCE_REGISTRY_CA: state.sourceRegistry.ca,
  };
}

export async function requireRunningSandbox(dir: string): Promise<SandboxState> {
  const state = await readSandboxState(dir);
  if (!state || !isSandboxRunning(state)) {
    throw new KdeliverError(
      'environment',
      'SANDBOX_NOT_RUNNING',
      `no sandbox is running in ${resolve(dir)}`,
      {
        hint: `Start one with: kdeliver sandbox up --dir ${dir}`,
      },
    );
  }
  return state;
}

interface UpContext {
  binaries?: SandboxBinaries;
  registryBinary?: string;
  pki?: SandboxPki;
  etcd?: string;
  apiServer?: string;
  registry?: RegistryEndpoint;
  sourceRegistry?: RegistryEndpoint;
  registryVersion?: string;
}

/**
 * Starts a whole local site on loopback: etcd, kube-apiserver, controller-manager,
 * scheduler, a kwok node, and two registries. Idempotent: a running sandbox is reused.
 */
export async function sandboxUp(dirArg: string, mode: OutputMode): Promise<SandboxUpResult> {
  const dir = resolve(dirArg);
  const started = performance.now();
  const previous = await readSandboxState(dir);
  if (previous && isSandboxRunning(previous))
    return { state: previous, alreadyRunning: true, startSeconds: 0 };
  if (previous) await stopAll(previous.processes);
  await resetSiteData(dir);

  const logDir = join(dir, 'logs');
  const pkiDir = join(dir, 'pki');
  await mkdir(logDir, { recursive: true });
  await mkdir(pkiDir, { recursive: true, mode: 0o700 });
  const processes: TrackedProcess[] = [];
  // Start-up runs tasks side by side: a daemon one of them starts after another failed (and
  // the others were stopped) is stopped at once, not left behind.
  let failed = false;
  const track = (daemon: TrackedProcess) => {
    processes.push(daemon);
    if (failed) void stopDaemon(daemon);
  };
  const kubeconfig = join(dir, 'kubeconfig');
  const context = (ctx: UpContext): ControlPlaneContext => ({
    binaries: ctx.binaries!,
    pki: ctx.pki!,
    dataDir: join(dir, 'data'),
    logDir,
    track,
  });

  let ctx: UpContext;
  try {
    ctx = await runTasks<UpContext>(
      [
        {
          title: 'Control-plane binaries',
          task: async (c, task) => {
            c.binaries = await resolveBinaries({
              onBuild: (component, version) => {
                task.output = `building ${component} ${version} from Go modules (first run only; cached afterwards)`;
                task.title = `Control-plane binaries: building ${component} ${version}`;
              },
            });
            task.title = 'Control-plane binaries';
          },
        },
        {
          title: 'Registry binary (docker-registry)',
          task: async (c) => {
            c.registryBinary = await ensureDebianTool(
              'docker-registry',
              'docker-registry',
              'the sandbox registry',
            );
            const { stdout } = await runCommand(c.registryBinary, ['--version']);
            c.registryVersion = stdout.trim().split(/\s+/).pop() ?? 'unknown';
          },
        },
        { title: 'Certificates', task: async (c) => void (c.pki = await createPki(pkiDir)) },
        {
          title: 'Start the site',
          task: (_c, task) =>
            task.newListr(
              [
                {
                  title: 'etcd and kube-apiserver',
                  task: async (c) => {
                    c.etcd = await startEtcd(context(c));
                    c.apiServer = await startApiServer(context(c), c.etcd);
                    await writeKubeconfig(kubeconfig, c.apiServer, c.pki!);
                  },
                },
                {
                  title: 'Registries (TLS with auth, and a source registry)',
                  task: async (c) => {
                    // Registry clients (skopeo, docker) read every file of a CA directory: this one holds the CA alone.
                    const caDir = join(dir, 'registry-ca');
                    await mkdir(caDir, { recursive: true });
                    await copyFile(c.pki!.caCert, join(caDir, 'ca.crt'));
                    const tls = { cert: c.pki!.serverCert, key: c.pki!.serverKey, ca: join(caDir, 'ca.crt') };
                    const [site, source] = await Promise.all(
                      [
                        { name: 'registry', auth: true },
                        { name: 'source-registry', auth: false },
                      ].map(async ({ name, auth }) => {
                        const started = await startRegistry({
                          binary: c.registryBinary!,
                          name,
                          dir: join(dir, 'data', name),
                          logFile: join(logDir, `${name}.log`),
                          tls,
                          auth,
                          track,
                        });
                        return started.endpoint;
                      }),
                    );
                    c.registry = site;
                    c.sourceRegistry = source;
                  },
                },
              ],
              { concurrent: true },
            ),
        },
        {
          title: 'Controllers, scheduler and a simulated node',
          task: async (c) => {
            await startControllers(context(c), kubeconfig);
            await startNodeSimulator(context(c), kubeconfig);
          },
        },
      ],
      mode,
      {},
    );
  } catch (error) {
    failed = true;
    await stopAll(processes);
    throw error;
  }

  const state: SandboxState = {
    dir,
    startedAt: new Date().toISOString(),
    versions: { ...SANDBOX_VERSIONS, registry: ctx.registryVersion ?? 'unknown' },
    kubeconfig,
    apiServer: ctx.apiServer!,
    registry: ctx.registry!,
    sourceRegistry: ctx.sourceRegistry!,
    processes,
  };
  await writeFileAtomic(join(dir, STATE_FILE), JSON.stringify(state, null, 2), { mode: 0o600 });
  return { state, alreadyRunning: false, startSeconds: (performance.now() - started) / 1000 };
}

/** Stops every daemon and removes the site's data; logs stay for inspection. */
export async function sandboxDown(dirArg: string): Promise<{ stopped: string[] }> {
  const dir = resolve(dirArg);
  const state = await readSandboxState(dir);
  if (!state) return { stopped: [] };
  const stopped = state.processes.filter(isRunning).map((p) => p.name);
  await stopAll(state.processes);
  await resetSiteData(dir);
  return { stopped };
}

async function stopAll(processes: TrackedProcess[]): Promise<void> {
  // Reverse start order: clients before the servers they talk to.
  for (const daemon of [...processes].reverse()) await stopDaemon(daemon);
}

async function resetSiteData(dir: string): Promise<void> {
  for (const owned of ['data', 'pki', 'registry-ca', 'kubeconfig', STATE_FILE])
    await rm(join(dir, owned), { recursive: true, force: true });
}
