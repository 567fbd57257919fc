import { access, constants, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { KdeliverError } from '../errors.ts';
import { runCommand, whichCommand } from '../util/exec.ts';
import { cacheRoot } from './paths.ts';
import { MINIMUM_GO, SANDBOX_VERSIONS } from './versions.ts';

/** Files the sandbox runs: the daemons, kubectl, and kwok's stage definitions (taken from its module). */
export type SandboxBinary =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubectl'
  | 'kwok'
  | 'kwok-stages.yaml'
  /** kwok's default StorageClass, whose claims its volume stages provision and bind. */
  | 'kwok-storage-class.yaml';

export type SandboxBinaries = Record<SandboxBinary, string>;

interface BuildContext {
  go: string;
  workDir: string;
  outDir: string;
  log: (chunk: Buffer) => void;
}

interface Component {
  name: keyof typeof SANDBOX_VERSIONS;
  binaries: SandboxBinary[];
  build: (context: BuildContext) => Promise<void>;
}

const COMPONENTS: Component[] = [
  { name: 'etcd', binaries: ['etcd'], build: buildEtcd },
  {
    name: 'kubernetes',
    binaries: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'],
    build: buildKubernetes,
  },
  { name: 'kwok', binaries: ['kwok', 'kwok-stages.yaml', 'kwok-storage-class.yaml'], build: buildKwok },
];

export interface ResolveOptions {
  /** Reports each component that has to be built, before its build starts. */
  onBuild?: (component: string, version: string) => void;
}

/**
 * Changes to how a component is built, so that a cache made the old way is not taken for
 * the new one: Kubernetes binaries now report their version (`/version`), which the
 * install's preflight compares with the package's supported range.
 */
const BUILD_REVISIONS: Partial<Record<keyof typeof SANDBOX_VERSIONS, string>> = { kubernetes: 'stamped' };

/** Where the cached build of a component lives: one directory per component, version and build revision. */
export function componentDir(name: keyof typeof SANDBOX_VERSIONS): string {
  const revision = BUILD_REVISIONS[name];
  return join(cacheRoot(), 'sandbox', `${name}-${SANDBOX_VERSIONS[name]}${revision ? `-${revision}` : ''}`);
}

/**
 * Finds every control-plane binary: in $KUBEBUILDER_ASSETS first (envtest convention),
 * then in the cache; a component missing from both is built from Go modules into the cache.
 */
export async function resolveBinaries(options: ResolveOptions = {}): Promise<SandboxBinaries> {
  const found: Partial<SandboxBinaries> = {};
  const assets = process.env.KUBEBUILDER_ASSETS;
  for (const component of COMPONENTS) {
    const dir = componentDir(component.name);
    let missing = false;
    for (const binary of component.binaries) {
      const fromAssets = assets ? join(assets, binary) : undefined;
      if (fromAssets && (await exists(fromAssets))) found[binary] = fromAssets;
      else if (await exists(join(dir, binary))) found[binary] = join(dir, binary);
      else missing = true;
    }
    if (!missing) continue;
    options.onBuild?.(component.name, SANDBOX_VERSIONS[component.name]);
    await buildComponent(component);
    for (const binary of component.binaries) found[binary] ??= join(dir, binary);
  }
  return found as SandboxBinaries;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function findGo(): Promise<string> {
  const go = await whichCommand('go');
  const hint =
    `Install Go ${MINIMUM_GO} or newer and put it on PATH (the sandbox builds its control plane from Go modules once ` +
    `and caches it in ${join(cacheRoot(), 'sandbox')}), or set KUBEBUILDER_ASSETS to a directory that holds ` +
    'etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok binaries.';
  if (!go)
    throw new KdeliverError('environment', 'GO_MISSING', 'Go is needed to build the sandbox control plane', {
      hint,
    });
  const { stdout } = await runCommand(go, ['env', 'GOVERSION']);
  const version = semver.coerce(stdout.trim().replace(/^go/, ''));
  if (!version || semver.lt(version, semver.coerce(MINIMUM_GO)!)) {
    throw new KdeliverError(
      'environment',
      'GO_TOO_OLD',
      `Go ${stdout.trim()} is too old to build the sandbox`,
      { hint },
    );
  }
  return go;
}

/** Builds into a fresh directory and renames it into place, so a killed build leaves no half cache. */
async function buildComponent(component: Component): Promise<void> {
  const go = await findGo();
  const finalDir = componentDir(component.name);
  const workDir = join(
    cacheRoot(),
    'sandbox',
    'build',
    `${component.name}-${SANDBOX_VERSIONS[component.name]}`,
  );
  const outDir = `${finalDir}.tmp-${process.pid}`;
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  await mkdir(outDir, { recursive: true });
  const logLines: Buffer[] = [];
  try {
    await component.build({ go, workDir, outDir, log: (chunk) => logLines.push(chunk) });
    await rm(finalDir, { recursive: true, force: true });
    await rename(outDir, finalDir);
  } catch (error) {
    await writeFile(join(workDir, 'build.log'), Buffer.concat(logLines));
    throw new KdeliverError(
      'environment',
      'SANDBOX_BUILD_FAILED',
      `building ${component.name} ${SANDBOX_VERSIONS[component.name]} from Go modules failed: ${(error as Error).message}`,
      { hint: `The full build log is in ${join(workDir, 'build.log')}.`, cause: error },
    );
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GO111MODULE: 'on', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
}

async function goRun(
  context: BuildContext,
  args: string[],
  env: NodeJS.ProcessEnv = goEnv(),
): Promise<string> {
  const { stdout } = await runCommand(context.go, args, { cwd: context.workDir, env, onOutput: context.log });
  return stdout;
}

const GO_BUILD_FLAGS = ['-trimpath', '-ldflags=-s -w'];

/**
 * etcd's own main module replaces its submodules with local paths, so it cannot be
 * installed by version; a three-line main over the published server module does the same.
 */
async function buildEtcd(context: BuildContext): Promise<void> {
  await writeFile(
    join(context.workDir, 'go.mod'),
    `module kdeliver.local/sandbox/etcd\n\ngo ${MINIMUM_GO}\n\nrequire go.etcd.io/etcd/server/v3 ${SANDBOX_VERSIONS.etcd}\n`,
  );
  await writeFile(
    join(context.workDir, 'main.go'),
    'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n',
  );
  await goRun(context, ['mod', 'tidy']);
  await goRun(context, ['build', ...GO_BUILD_FLAGS, '-o', join(context.outDir, 'etcd'), '.']);
}

/**
 * k8s.io/kubernetes replaces its staging modules (k8s.io/api, client-go, …) with local
 * paths, which do not apply when it is a dependency. A small module requires it and
 * replaces each staging module by its published release of the same minor version.
 */
async function buildKubernetes(context: BuildContext): Promise<void> {
  const version = SANDBOX_VERSIONS.kubernetes;
  const download = JSON.parse(
    await goRun(context, ['mod', 'download', '-json', `k8s.io/kubernetes@${version}`]),
  ) as {
    GoMod: string;
  };
  const upstreamGoMod = await readFile(download.GoMod, 'utf8');
  const staging = [...upstreamGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map(
    (m) => m[1]!,
  );
  const stagingVersion = `v0.${version.slice('v1.'.length)}`;
  // Some staging modules (samples) are never published; they are not needed for the build either.
  const listed = await goRun(context, [
    'list',
    '-m',
    '-e',
    '-versions',
    '-f',
    '{{.Path}} {{join .Versions " "}}',
    ...staging,
  ]);
  const published = new Set(
    listed
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields.slice(1).includes(stagingVersion))
      .map((fields) => fields[0]),
  );
  const replaces = staging
    .filter((module) => published.has(module))
    .map((module) => `\t${module} => ${module} ${stagingVersion}\n`)
    .join('');
  await writeFile(
    join(context.workDir, 'go.mod'),
    `module kdeliver.local/sandbox/kubernetes\n\ngo ${MINIMUM_GO}\n\nrequire k8s.io/kubernetes ${version}\n\nreplace (\n${replaces})\n`,
  );
  const commands = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];
  const imports = commands.map((command) => `\t_ "k8s.io/kubernetes/cmd/${command}"\n`).join('');
  await writeFile(
    join(context.workDir, 'tools.go'),
    `//go:build tools\n\npackage tools\n\nimport (\n${imports})\n`,
  );
  await goRun(context, ['mod', 'tidy']);
  // A build from modules has no git data: stamp the version the release build would (hack/lib/version.sh).
  const [major, minor] = version.slice(1).split('.');
  const stamp = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
  await goRun(context, [
    'build',
    '-trimpath',
    `-ldflags=-s -w ${stamp.join(' ')}`,
    '-o',
    `${context.outDir}/`,
    ...commands.map((command) => `k8s.io/kubernetes/cmd/${command}`),
  ]);
}

/** Stages kwok applies: nodes become Ready and keep a heartbeat; pods run, complete and go away. */
const KWOK_STAGE_FILES = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat/node-heartbeat.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
  'volume/fast/pvc-provision.yaml',
  'volume/fast/pv-bind.yaml',
  'volume/fast/pvc-delete.yaml',
  'volume/fast/pv-delete.yaml',
];

/**
 * kwok simulates nodes and pods, so Deployments really roll out without a kubelet or
 * containers. Its binary has no default stages; the module ships them as YAML.
 */
async function buildKwok(context: BuildContext): Promise<void> {
  const module = `sigs.k8s.io/kwok@${SANDBOX_VERSIONS.kwok}`;
  const env = { ...goEnv(), GOFLAGS: '' };
  await goRun(context, ['install', ...GO_BUILD_FLAGS, `sigs.k8s.io/kwok/cmd/kwok@${SANDBOX_VERSIONS.kwok}`], {
    ...env,
    GOBIN: context.outDir,
  });
  const { Dir } = JSON.parse(await goRun(context, ['mod', 'download', '-json', module], env)) as {
    Dir: string;
  };
  const stages = await Promise.all(
    KWOK_STAGE_FILES.map((file) => readFile(join(Dir, 'kustomize', 'stage', file), 'utf8')),
  );
  await writeFile(
    join(context.outDir, 'kwok-stages.yaml'),
    stages.map((stage) => stage.trim()).join('\n---\n') + '\n',
  );
  await copyFile(
    join(Dir, 'kustomize', 'stage', 'volume', 'fast', 'storage-class.yaml'),
    join(context.outDir, 'kwok-storage-class.yaml'),
  );
}
