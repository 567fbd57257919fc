/**
 * Benchmark of `kdeliver apply` against `kubectl apply --server-side` of the same objects:
 * N resources (ConfigMaps, Services and Deployments, a third each) across 10 namespaces,
 * created from scratch by each tool in its own namespaces, then applied again unchanged.
 * kdeliver also waits until every Deployment is Available; kubectl does not wait. Services
 * are headless: the sandbox's Service IP range holds only about 250 addresses.
 *
 *   node bench/apply/run.ts [--resources 1000] [--concurrency 50] [--keep] [--cpu-prof DIR]
 *
 * With --cpu-prof, only kdeliver runs, under `node --cpu-prof`, and its profiles (one per
 * run, in start order) are written to DIR for Chrome DevTools or `bench/apply/profile-summary.ts`.
 *
 * Starts (or reuses) its own sandbox in /tmp/bench-apply. Goals: kdeliver ≥ 2× faster than
 * kubectl creating, and a no-change re-apply in ≤ 3 s.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { componentDir } from '../../src/sandbox/binaries.ts';
import type { SpecResource } from '../../src/runtimes/runtime.ts';
import { CLI, runProgram, type CliResult } from '../../test/helpers/cli.ts';
import { k8s } from '../../test/unit/engine/resources.ts';
import { configMap, deployment, namespace } from '../../test/helpers/release.ts';

const SANDBOX_DIR = '/tmp/bench-apply';
const NAMESPACES = 10;
const GOAL_RATIO = 2;
const GOAL_NO_CHANGE_SECONDS = 3;

const { values } = parseArgs({
  options: {
    resources: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const resourceCount = Number(values.resources);
const concurrency = values.concurrency;
const profileDir = values['cpu-prof'];

async function run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  const result = await runProgram(command, args, { env: { ...process.env, ...env } });
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-4000)}`);
  return result;
}

async function timed(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await run(command, args, env);
  return (performance.now() - started) / 1000;
}

/** Headless, so that hundreds of them fit the sandbox's small Service IP range. */
const headlessService = (ns: string, name: string) =>
  k8s('v1', 'Service', ns, name, {
    body: { spec: { clusterIP: 'None', selector: { app: name }, ports: [{ port: 80 }] } },
  });

/** N resources over the namespaces `<prefix>-0` … `<prefix>-9`, namespaces first. */
function generate(prefix: string, count: number): SpecResource[] {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `${prefix}-${i}`);
  const resources: SpecResource[] = namespaces.map((name) => namespace(name));
  for (let i = 0; i < count; i++) {
    const ns = namespaces[i % NAMESPACES]!;
    const name = `app-${Math.floor(i / 3)}`;
    if (i % 3 === 0) resources.push(configMap(ns, name, { index: String(i), mode: 'bench' }));
    else if (i % 3 === 1) resources.push(headlessService(ns, name));
    else resources.push(deployment(ns, name, `example.invalid/${name}:1`));
  }
  return resources;
}

const started = performance.now();
process.stderr.write(`Starting the sandbox in ${SANDBOX_DIR}…\n`);
await run(process.execPath, [CLI, 'sandbox', 'up', '--dir', SANDBOX_DIR]);
const env = JSON.parse(
  (await run(process.execPath, [CLI, 'sandbox', 'env', '--dir', SANDBOX_DIR, '--json'])).stdout,
) as {
  KUBECONFIG: string;
};
const kubectl = join(componentDir('kubernetes'), 'kubectl');
const work = await mkdtemp(join(tmpdir(), 'bench-apply-'));
try {
  const suffix = Date.now().toString(36);
  const spec = join(work, 'bench.yaml');
  const manifest = join(work, 'bench-kubectl.json');
  const kdResources = generate(`kd-${suffix}`, resourceCount);
  await writeFile(spec, JSON.stringify({ resources: kdResources }));
  const kcResources = generate(`kc-${suffix}`, resourceCount);
  await writeFile(
    manifest,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: kcResources.map((resource) => resource.attributes),
    }),
  );

  const kdeliverArgs = [
    ...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]),
    CLI,
    'apply',
    '--spec',
    spec,
    '--stack',
    `bench-${suffix}`,
    '-y',
    '--concurrency',
    concurrency,
    '--state',
    join(work, 'state.db'),
    '--kubeconfig',
    env.KUBECONFIG,
  ];
  const kubectlArgs = ['apply', '--server-side', '--field-manager', 'bench', '-f', manifest];
  const kubectlEnv = { KUBECONFIG: env.KUBECONFIG };

  if (profileDir !== undefined) {
    const create = await timed(process.execPath, kdeliverArgs);
    const noChange = await timed(process.execPath, kdeliverArgs);
    process.stdout.write(
      `kdeliver, ${resourceCount} resources, profiled: create ${create.toFixed(2)} s, no-change ${noChange.toFixed(2)} s; profiles in ${profileDir}\n`,
    );
  } else {
    await compare();
  }

  async function compare(): Promise<void> {
    process.stderr.write(`Applying ${resourceCount} resources (+${NAMESPACES} namespaces) with each tool…\n`);
    const kubectlCreate = await timed(kubectl, kubectlArgs, kubectlEnv);
    const kdeliverCreate = await timed(process.execPath, kdeliverArgs);
    const kubectlNoChange = await timed(kubectl, kubectlArgs, kubectlEnv);
    const kdeliverNoChange = await timed(process.execPath, kdeliverArgs);

    const row = (label: string, kd: number, kc: number) =>
      `${label.padEnd(22)} ${kd.toFixed(2).padStart(8)} s ${kc.toFixed(2).padStart(8)} s ${(kc / kd).toFixed(2).padStart(7)}×`;
    const lines = [
      `kdeliver apply vs kubectl apply --server-side: ${resourceCount} resources in ${NAMESPACES} namespaces, kdeliver --concurrency ${concurrency}`,
      `${''.padEnd(22)} ${'kdeliver'.padStart(10)} ${'kubectl'.padStart(10)} ${'speedup'.padStart(8)}`,
      row('create from scratch', kdeliverCreate, kubectlCreate),
      row('no-change re-apply', kdeliverNoChange, kubectlNoChange),
      `goal: create ≥ ${GOAL_RATIO}× faster: ${kubectlCreate / kdeliverCreate >= GOAL_RATIO ? 'met' : 'NOT met'}; ` +
        `no-change ≤ ${GOAL_NO_CHANGE_SECONDS} s: ${kdeliverNoChange <= GOAL_NO_CHANGE_SECONDS ? 'met' : 'NOT met'}`,
      `(kdeliver times include its process start and waiting until every Deployment is Available; total bench ${((performance.now() - started) / 1000).toFixed(0)} s)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
  if (!values.keep) await run(process.execPath, [CLI, 'sandbox', 'down', '--dir', SANDBOX_DIR]);
}
