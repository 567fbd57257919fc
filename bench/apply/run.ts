/**
 * Benchmark of `kdeliver apply` against `kubectl apply --server-side` of the same objects:
 * N resources (ConfigMaps, Services and Deployments, a third each) across 10 namespaces,
 * created from scratch by each tool in its own namespaces, then applied again unchanged.
 * Each side is measured doing the same work both ways: `kdeliver apply --no-wait` against
 * plain `kubectl apply` (done once the server accepted every object), and `kdeliver apply`,
 * which waits until every Deployment is Available, against `kubectl apply` followed by
 * `kubectl wait --for=condition=Available` on its Deployments. After a create that does not
 * wait, the script waits (untimed) for that set's rollouts, so that the next tool starts on
 * a settled cluster. Services are headless: the sandbox's Service IP range holds only about
 * 250 addresses.
 *
 *   node bench/apply/run.ts [--resources 1000] [--concurrency 50] [--kdeliver sea]
 *                           [--keep] [--cpu-prof DIR]
 *
 * --kdeliver lists how kdeliver runs, each a column: `source` (node bin/kdeliver.js, types
 * stripped at load), `bundle` (node dist/kdeliver.cjs) and `sea` (dist/kdeliver-linux-x64,
 * the single executable that ships); the last two come from `npm run build:bin`.
 *
 * With --cpu-prof, only kdeliver from source runs, under `node --cpu-prof`, and its profiles
 * (one per run, in start order) are written to DIR for Chrome DevTools or
 * `bench/apply/profile-summary.ts`.
 *
 * Starts (or reuses) its own sandbox in /tmp/bench-apply. Goals: kdeliver ≥ 2× faster than
 * kubectl creating (each way), and a no-change re-apply in ≤ 3 s. Each kdeliver runner adds
 * two sets of N/3 pods; the sandbox's simulated node takes at most 2,000.
 */
import { existsSync } from 'node:fs';
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
import { KDELIVER_RUNNERS, type RunnerName } from '../shared/harness.ts';

const SANDBOX_DIR = '/tmp/bench-apply';
const NAMESPACES = 10;
const GOAL_RATIO = 2;
const GOAL_NO_CHANGE_SECONDS = 3;
/** Labels every Deployment with the set of resources it belongs to, for `kubectl wait -l`. */
const SET_LABEL = 'bench.kdeliver.io/set';

const { values } = parseArgs({
  options: {
    resources: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    kdeliver: { type: 'string', default: 'sea' },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const resourceCount = Number(values.resources);
const concurrency = values.concurrency;
const profileDir = values['cpu-prof'];
const runnerNames = profileDir === undefined ? values.kdeliver.split(',') : ['source'];
for (const name of runnerNames) {
  if (!(name in KDELIVER_RUNNERS))
    throw new Error(`--kdeliver: unknown "${name}"; choose from ${Object.keys(KDELIVER_RUNNERS).join(', ')}`);
  const { command, prefix } = KDELIVER_RUNNERS[name as RunnerName];
  const program = prefix[0] ?? command;
  if (!existsSync(program)) throw new Error(`${program} is missing; run npm run build:bin first`);
}

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

/** A Deployment labelled with its set, so that `kubectl wait -l` finds exactly one set's. */
function labelledDeployment(ns: string, name: string, set: string): SpecResource {
  const resource = deployment(ns, name, `example.invalid/${name}:1`);
  (resource.attributes.metadata as Record<string, unknown>).labels = { [SET_LABEL]: set };
  return resource;
}

const namespacesOf = (prefix: string) => Array.from({ length: NAMESPACES }, (_, i) => `${prefix}-${i}`);
/** Every set's prefix, for deleting their namespaces from a kept sandbox. */
const sets: string[] = [];

/** N resources over the namespaces `<prefix>-0` … `<prefix>-9`, namespaces first. */
function generate(prefix: string, count: number): SpecResource[] {
  sets.push(prefix);
  const namespaces = namespacesOf(prefix);
  const resources: SpecResource[] = namespaces.map((name) => namespace(name));
  for (let i = 0; i < count; i++) {
    const ns = namespaces[i % NAMESPACES]!;
    const name = `app-${Math.floor(i / 3)}`;
    if (i % 3 === 0) resources.push(configMap(ns, name, { index: String(i), mode: 'bench' }));
    else if (i % 3 === 1) resources.push(headlessService(ns, name));
    else resources.push(labelledDeployment(ns, name, prefix));
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
  const kubectlEnv = { KUBECONFIG: env.KUBECONFIG };

  /** `kubectl apply --server-side` of one set; with `wait`, then until its Deployments are Available. */
  async function kubectlSet(prefix: string, wait: boolean): Promise<() => Promise<number>> {
    const manifest = join(work, `${prefix}.json`);
    const items = generate(prefix, resourceCount).map((resource) => resource.attributes);
    await writeFile(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const apply = ['apply', '--server-side', '--field-manager', 'bench', '-f', manifest];
    return async () => {
      const started = performance.now();
      await run(kubectl, apply, kubectlEnv);
      if (wait) await rolledOut(prefix);
      return (performance.now() - started) / 1000;
    };
  }

  /** Until every Deployment of the set is Available. */
  async function rolledOut(prefix: string): Promise<void> {
    await run(
      kubectl,
      [
        'wait',
        '--for=condition=Available',
        'deployment',
        '-A',
        '-l',
        `${SET_LABEL}=${prefix}`,
        '--timeout',
        '600s',
      ],
      kubectlEnv,
    );
  }

  /** `kdeliver apply` of one set into its own stack and state file; with `wait`, until healthy. */
  async function kdeliverSet(
    prefix: string,
    runner: RunnerName,
    wait: boolean,
  ): Promise<() => Promise<number>> {
    const spec = join(work, `${prefix}.json`);
    await writeFile(spec, JSON.stringify({ resources: generate(prefix, resourceCount) }));
    const { command, prefix: leading } = KDELIVER_RUNNERS[runner];
    const args = [
      ...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]),
      ...leading,
      'apply',
      '--spec',
      spec,
      '--stack',
      prefix,
      '-y',
      '--concurrency',
      concurrency,
      '--state',
      join(work, `${prefix}.db`),
      '--kubeconfig',
      env.KUBECONFIG,
      ...(wait ? [] : ['--no-wait']),
    ];
    return () => timed(command, args);
  }

  if (profileDir !== undefined) {
    const apply = await kdeliverSet(`kd-${suffix}`, 'source', true);
    const create = await apply();
    const noChange = await apply();
    process.stdout.write(
      `kdeliver, ${resourceCount} resources, profiled: create ${create.toFixed(2)} s, no-change ${noChange.toFixed(2)} s; profiles in ${profileDir}\n`,
    );
  } else {
    await compare();
  }

  async function compare(): Promise<void> {
    // Per runner: with health waits, then without; the two kubectl baselines last.
    const kdeliverColumns = await Promise.all(
      runnerNames.flatMap((name) =>
        [true, false].map(async (wait) => {
          const prefix = `kd${name}${wait ? 'w' : 'n'}-${suffix}`;
          const label = `kdeliver ${name}${wait ? '' : ' --no-wait'}`;
          return { label, prefix, wait, apply: await kdeliverSet(prefix, name as RunnerName, wait) };
        }),
      ),
    );
    const kubectlColumn = async (label: string, prefix: string, wait: boolean) => ({
      label,
      prefix,
      wait,
      apply: await kubectlSet(prefix, wait),
    });
    const columns = [
      ...kdeliverColumns,
      await kubectlColumn('kubectl', `kc-${suffix}`, false),
      await kubectlColumn('kubectl+wait', `kw-${suffix}`, true),
    ];
    process.stderr.write(
      `Applying ${resourceCount} resources (+${NAMESPACES} namespaces) with each of ${columns.map((c) => c.label).join(', ')}…\n`,
    );
    // One tool after another, creating first and then re-applying, so that load spreads over all.
    const create: number[] = [];
    for (const column of columns) {
      create.push(await column.apply());
      // Untimed: the next tool starts on a settled cluster, not beside this one's rollouts.
      if (!column.wait) await rolledOut(column.prefix);
    }
    const noChange: number[] = [];
    for (const column of columns) noChange.push(await column.apply());

    const width = Math.max(...columns.map((c) => c.label.length)) + 2;
    const cells = (values: string[]) => values.map((v) => v.padStart(width)).join('');
    const row = (label: string, seconds: number[]) =>
      `${label.padEnd(22)}${cells(seconds.map((s) => `${s.toFixed(2)} s`))}`;
    const kubectlCreate = create[kdeliverColumns.length]!;
    const kubectlWaitCreate = create[kdeliverColumns.length + 1]!;
    const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
    const goals = runnerNames.map((name, i) => {
      const [waited, unwaited] = [create[2 * i]!, create[2 * i + 1]!];
      const [waitRatio, noWaitRatio] = [kubectlWaitCreate / waited, kubectlCreate / unwaited];
      const slowestNoChange = Math.max(noChange[2 * i]!, noChange[2 * i + 1]!);
      return (
        `kdeliver ${name}: create (goal ≥ ${GOAL_RATIO}×) ${noWaitRatio.toFixed(2)}× kubectl with --no-wait, ` +
        `${waitRatio.toFixed(2)}× kubectl+wait waiting: ${verdict(Math.min(waitRatio, noWaitRatio) >= GOAL_RATIO)}; ` +
        `waiting vs kubectl not waiting ${(kubectlCreate / waited).toFixed(2)}×; ` +
        `no-change ≤ ${slowestNoChange.toFixed(2)} s (goal ≤ ${GOAL_NO_CHANGE_SECONDS} s: ${verdict(slowestNoChange <= GOAL_NO_CHANGE_SECONDS)})`
      );
    });
    const lines = [
      `kdeliver apply vs kubectl apply --server-side: ${resourceCount} resources in ${NAMESPACES} namespaces, kdeliver --concurrency ${concurrency}`,
      `${''.padEnd(22)}${cells(columns.map((c) => c.label))}`,
      row('create from scratch', create),
      row('no-change re-apply', noChange),
      ...goals,
      `(kdeliver without --no-wait and kubectl+wait wait until every Deployment is Available; all include process start; total bench ${((performance.now() - started) / 1000).toFixed(0)} s)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
  if (!values.keep) await run(process.execPath, [CLI, 'sandbox', 'down', '--dir', SANDBOX_DIR]);
  // A kept sandbox would otherwise fill up: its simulated node takes at most 2,000 pods.
  else
    await run(
      kubectl,
      ['delete', 'namespace', '--wait=false', '--ignore-not-found', ...new Set(sets.flatMap(namespacesOf))],
      {
        KUBECONFIG: env.KUBECONFIG,
      },
    );
}
