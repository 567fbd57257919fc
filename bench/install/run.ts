/**
 * Benchmark of `kdeliver install` against the same work done with standard tools: for
 * each image `skopeo copy --all` from the source registry into the site registry (TLS,
 * basic auth), the image references rewritten to the site registry by digest, then
 * `kubectl apply --server-side` of the same objects (Namespace, pull Secret, one
 * Deployment per image) and `kubectl rollout status` of each Deployment, so both sides
 * wait until the workloads are healthy. Then both again with everything present.
 *
 *   node bench/install/run.ts [--images 20] [--total-mb 2000] [--parallel 4] [--kdeliver source|sea] [--json] [--keep]
 *
 * Every side pushes to its own repository prefix and namespace, and skopeo's blob location
 * cache is cleared before each baseline, so every first copy uploads every byte. Before each
 * timed run, `sync` writes out what earlier steps wrote. --parallel N adds a baseline whose skopeo copies run N at a time
 * (0: none). Peak RSS of each kdeliver run comes from GNU time.
 *
 * Uses the sandbox named by `kdeliver sandbox env` variables, or starts one in
 * /tmp/bench-install. Goals: ≥ 1.5× faster than the sequential baseline, a second install
 * in ≤ 5 s, peak RSS < 256 MB.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { PULL_SECRET_NAME, pullSecretResource } from '../../src/install/pull-secret.ts';
import { componentDir } from '../../src/sandbox/binaries.ts';
import type { SpecResource } from '../../src/runtimes/runtime.ts';
import { CLI } from '../../test/helpers/cli.ts';
import { deployment, namespace } from '../../test/helpers/release.ts';
import {
  KDELIVER_RUNNERS,
  mb,
  measured,
  pushImages,
  round,
  run,
  sandboxEnv,
  type Measurement,
  type RunnerName,
} from '../shared/harness.ts';

const SANDBOX_DIR = '/tmp/bench-install';
/** skopeo's blob location cache when run as root (containers/image's blob-info-cache). */
const SKOPEO_BLOB_CACHE = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
const GOAL_RATIO = 1.5;
const GOAL_SECOND_SECONDS = 5;
const GOAL_RSS_MB = 256;
const SANDBOX_VARIABLES = [
  'KUBECONFIG',
  'KDELIVER_REGISTRY',
  'KDELIVER_REGISTRY_CA',
  'KDELIVER_REGISTRY_USER',
  'KDELIVER_REGISTRY_PASSWORD',
  'KDELIVER_SOURCE_REGISTRY',
  'KDELIVER_SOURCE_REGISTRY_CA',
];

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '20' },
    'total-mb': { type: 'string', default: '2000' },
    parallel: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    kdeliver: { type: 'string', default: 'source' },
  },
});
const runner = KDELIVER_RUNNERS[values.kdeliver as RunnerName];
if (!runner)
  throw new Error(`--kdeliver is one of ${Object.keys(KDELIVER_RUNNERS).join(', ')}, not ${values.kdeliver}`);
const imageCount = Number(values.images);
const totalBytes = Number(values['total-mb']) * 1e6;
const parallel = Number(values.parallel);

/** What the baseline spent its time on, in seconds. */
interface BaselineRun {
  seconds: number;
  copy: number;
  apply: number;
  rollout: number;
  /** Peak RSS of the largest skopeo copy. */
  skopeoPeakRssMb: number;
}

interface KdeliverRun extends Measurement {
  pushSeconds: number;
  bytesPushed: number;
  blobsPushed: number;
  phase: string;
}

interface InstallJson {
  push: { bytes: { pushed: number }; blobs: { pushed: number }; seconds: number };
  releases: { summary?: { phase: string } }[];
}

/**
 * Writes out what earlier steps left in the page cache (the package, the other side's
 * pushes), so that neither side's registry fsyncs wait behind the other's data.
 */
async function settleDisk(): Promise<void> {
  await run('sync', []);
}

/** One Deployment per image (1 replica) in `ns`, after the Namespace. */
function workloads(ns: string, images: string[]): SpecResource[] {
  return [
    namespace(ns),
    ...images.map((image, i) => ({
      ...deployment(ns, `app-${i}`, image),
      dependsOn: [`v1:Namespace:${ns}`],
    })),
  ];
}

async function main(): Promise<void> {
  const env = await sandboxEnv(SANDBOX_DIR, SANDBOX_VARIABLES);
  const source = { host: env.KDELIVER_SOURCE_REGISTRY!, ca: env.KDELIVER_SOURCE_REGISTRY_CA! };
  const site = env.KDELIVER_REGISTRY!;
  const credentials = { username: env.KDELIVER_REGISTRY_USER!, password: env.KDELIVER_REGISTRY_PASSWORD! };
  const kubectl = join(componentDir('kubernetes'), 'kubectl');
  const kubectlEnv = { KUBECONFIG: env.KUBECONFIG! };
  const suffix = Date.now().toString(36);
  const work = await mkdtemp(join(tmpdir(), 'kdeliver-bench-install-'));
  const namespaces: string[] = [];
  const started = performance.now();
  try {
    process.stderr.write(`Pushing ${imageCount} images, ${mb(totalBytes)} MB in all…\n`);
    // The package keeps the images' repository paths: kdeliver pushes to <site>/bench-kd-…/app-<i>.
    const references = await pushImages(source, {
      count: imageCount,
      totalBytes,
      repositoryPrefix: `bench-kd-${suffix}`,
    });

    process.stderr.write('Building the package…\n');
    const specFile = join(work, 'app.json');
    const kdNamespace = `bench-kd-${suffix}`;
    await writeFile(specFile, JSON.stringify({ resources: workloads(kdNamespace, references) }));
    namespaces.push(kdNamespace);
    await run(process.execPath, [CLI, 'keys', 'generate', '--out', work]);
    await writeFile(join(work, 'config.json'), '{"auths":{}}');
    const pkg = join(work, 'bench.tar.zst');
    const cliEnv = { ...env, DOCKER_CONFIG: work };
    await run(
      process.execPath,
      [
        CLI,
        'build',
        '--spec',
        `app=${specFile}`,
        '--name',
        'bench-install',
        '--version',
        '1',
        '--key',
        join(work, 'kdeliver.key'),
        '-o',
        pkg,
      ],
      cliEnv,
    );
    const packageMb = mb((await stat(pkg)).size);

    /** skopeo copy of every image to `<site>/<prefix>/app-<i>`, `limit` at a time, then apply and wait. */
    async function baseline(prefix: string, ns: string, limit: number): Promise<BaselineRun> {
      // skopeo remembers where it saw each blob and mounts it from there: without this, a
      // baseline copies nothing the one before it pushed into another repository.
      await rm(SKOPEO_BLOB_CACHE, { force: true });
      await settleDisk();
      const begin = performance.now();
      const copies = await pLimit(limit).map(references, async (reference, i) => {
        const digestFile = join(work, `${prefix}-${i}.digest`);
        const tag = reference.slice(reference.lastIndexOf(':') + 1);
        const copy = await measured('skopeo', [
          'copy',
          '--all',
          '--quiet',
          '--src-cert-dir',
          dirname(source.ca),
          '--dest-cert-dir',
          dirname(env.KDELIVER_REGISTRY_CA!),
          '--dest-creds',
          `${credentials.username}:${credentials.password}`,
          '--digestfile',
          digestFile,
          `docker://${reference}`,
          `docker://${site}/${prefix}/app-${i}:${tag}`,
        ]);
        const digest = (await readFile(digestFile, 'utf8')).trim();
        return { image: `${site}/${prefix}/app-${i}@${digest}`, peakRssMb: copy.peakRssMb };
      });
      const copied = performance.now();
      const secret = pullSecretResource(ns, site, credentials, []).attributes;
      const objects = workloads(
        ns,
        copies.map((copy) => copy.image),
      ).map((resource) => resource.attributes);
      for (const object of objects.filter((o) => o.kind === 'Deployment')) {
        const spec = object.spec as { template: { spec: Record<string, unknown> } };
        spec.template.spec.imagePullSecrets = [{ name: PULL_SECRET_NAME }];
      }
      const manifest = join(work, `${prefix}.json`);
      await writeFile(
        manifest,
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [objects[0], secret, ...objects.slice(1)] }),
      );
      await run(kubectl, ['apply', '--server-side', '--field-manager', 'bench', '-f', manifest], kubectlEnv);
      const applied = performance.now();
      for (let i = 0; i < references.length; i++)
        await run(
          kubectl,
          ['rollout', 'status', `deployment/app-${i}`, '-n', ns, '--timeout', '600s'],
          kubectlEnv,
        );
      const end = performance.now();
      return {
        seconds: (end - begin) / 1000,
        copy: (copied - begin) / 1000,
        apply: (applied - copied) / 1000,
        rollout: (end - applied) / 1000,
        skopeoPeakRssMb: Math.max(...copies.map((copy) => copy.peakRssMb)),
      };
    }

    async function kdeliver(): Promise<KdeliverRun> {
      await settleDisk();
      const measurement = await measured(
        runner.command,
        [
          ...runner.prefix,
          'install',
          pkg,
          '--key',
          join(work, 'kdeliver.pub'),
          '--project',
          kdNamespace,
          '--state',
          join(work, 'state.db'),
          '-y',
          '--json',
        ],
        cliEnv,
      );
      const report = JSON.parse(measurement.result.stdout) as InstallJson;
      return {
        seconds: measurement.seconds,
        peakRssMb: measurement.peakRssMb,
        pushSeconds: report.push.seconds,
        bytesPushed: report.push.bytes.pushed,
        blobsPushed: report.push.blobs.pushed,
        phase: report.releases.map((release) => release.summary?.phase ?? '?').join(','),
      };
    }

    process.stderr.write('Baseline: skopeo copy one at a time, kubectl apply, rollout status…\n');
    const baseNamespace = `bench-base-${suffix}`;
    namespaces.push(baseNamespace);
    const baseFirst = await baseline(`bench-base-${suffix}`, baseNamespace, 1);
    let parallelFirst: BaselineRun | undefined;
    if (parallel > 1) {
      process.stderr.write(`Baseline: skopeo copy ${parallel} at a time…\n`);
      const parallelNamespace = `bench-par-${suffix}`;
      namespaces.push(parallelNamespace);
      parallelFirst = await baseline(`bench-par-${suffix}`, parallelNamespace, parallel);
    }
    process.stderr.write('kdeliver install…\n');
    const kdFirst = await kdeliver();
    process.stderr.write('kdeliver install again (everything present)…\n');
    const kdSecond = await kdeliver();
    process.stderr.write('Baseline again (everything present)…\n');
    const baseSecond = await baseline(`bench-base-${suffix}`, baseNamespace, 1);

    const ratio = baseFirst.seconds / kdFirst.seconds;
    const peakRssMb = Math.max(kdFirst.peakRssMb, kdSecond.peakRssMb);
    const goals = {
      ratio: ratio >= GOAL_RATIO,
      second: kdSecond.seconds <= GOAL_SECOND_SECONDS,
      rss: peakRssMb < GOAL_RSS_MB,
    };
    const baselineJson = (b: BaselineRun) => ({
      seconds: round(b.seconds),
      copySeconds: round(b.copy),
      applySeconds: round(b.apply),
      rolloutSeconds: round(b.rollout),
      skopeoPeakRssMb: round(b.skopeoPeakRssMb, 1),
    });
    const kdeliverJson = (k: KdeliverRun) => ({
      seconds: round(k.seconds),
      pushSeconds: round(k.pushSeconds),
      peakRssMb: round(k.peakRssMb, 1),
      mbPushed: round(mb(k.bytesPushed), 1),
      blobsPushed: k.blobsPushed,
      phase: k.phase,
    });
    const results = {
      images: imageCount,
      packageMb: round(packageMb, 1),
      kdeliver: { first: kdeliverJson(kdFirst), second: kdeliverJson(kdSecond) },
      baseline: {
        first: baselineJson(baseFirst),
        second: baselineJson(baseSecond),
        ...(parallelFirst ? { parallel, parallelFirst: baselineJson(parallelFirst) } : {}),
      },
      speedup: round(ratio),
      ...(parallelFirst ? { speedupOverParallel: round(parallelFirst.seconds / kdFirst.seconds) } : {}),
      secondSpeedup: round(baseSecond.seconds / kdSecond.seconds),
      goals,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      return;
    }

    const seconds = (value: number) => `${value.toFixed(2)} s`.padStart(10);
    const row = (label: string, kd: number, base: number, note = '') =>
      `${label.padEnd(34)} ${seconds(kd)} ${seconds(base)} ${`${(base / kd).toFixed(2)}×`.padStart(8)}  ${note}`;
    const phases = (b: BaselineRun) =>
      `baseline: copy ${b.copy.toFixed(1)} s, apply ${b.apply.toFixed(1)} s, rollout ${b.rollout.toFixed(1)} s`;
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const lines = [
      `kdeliver install (${values.kdeliver}) vs skopeo copy + kubectl apply --server-side + rollout status: ` +
        `${imageCount} images, package ${packageMb.toFixed(0)} MB`,
      `${''.padEnd(34)} ${'kdeliver'.padStart(10)} ${'baseline'.padStart(10)} ${'speedup'.padStart(8)}`,
      row(
        'install (skopeo one at a time)',
        kdFirst.seconds,
        baseFirst.seconds,
        `kdeliver: push ${kdFirst.pushSeconds.toFixed(1)} s, ${mb(kdFirst.bytesPushed).toFixed(0)} MB; ${phases(baseFirst)}`,
      ),
      ...(parallelFirst
        ? [
            row(
              `install (skopeo ${parallel} at a time)`,
              kdFirst.seconds,
              parallelFirst.seconds,
              phases(parallelFirst),
            ),
          ]
        : []),
      row(
        'second install, everything present',
        kdSecond.seconds,
        baseSecond.seconds,
        `kdeliver: ${mb(kdSecond.bytesPushed).toFixed(0)} MB pushed, ${kdSecond.phase}; ${phases(baseSecond)}`,
      ),
      `peak RSS: kdeliver ${kdFirst.peakRssMb.toFixed(0)} MB / ${kdSecond.peakRssMb.toFixed(0)} MB, ` +
        `largest skopeo copy ${baseFirst.skopeoPeakRssMb.toFixed(0)} MB`,
      `goals: ≥ ${GOAL_RATIO}× faster: ${verdict(goals.ratio)}; second install ≤ ${GOAL_SECOND_SECONDS} s: ` +
        `${verdict(goals.second)}; RSS < ${GOAL_RSS_MB} MB: ${verdict(goals.rss)}`,
      `(both sides wait until every Deployment is rolled out; kdeliver also verifies the whole package ` +
        `and runs preflight; total bench ${((performance.now() - started) / 1000).toFixed(0)} s)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const ns of namespaces)
      await run(kubectl, ['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'], kubectlEnv).catch(
        () => {},
      );
    if (values.keep) process.stderr.write(`Kept ${work}\n`);
    else await rm(work, { recursive: true, force: true });
  }
}

await main();
