/**
 * Benchmark of `kdeliver build` and `kdeliver verify` against the same work done with
 * standard tools: `skopeo copy` into an OCI layout, `tar --zstd`, `sha256sum` for the
 * build; `zstd -dc | sha256sum` for verification. Peak RSS comes from GNU time.
 *
 *   node bench/bundle/run.ts [--images 20] [--total-mb 2000] [--runs 3] [--keep]
 *
 * Uses the sandbox named by KDELIVER_SOURCE_REGISTRY / KDELIVER_SOURCE_REGISTRY_CA, or
 * starts one in /tmp/bench-sandbox. Goals: throughput ≥ 0.8× the baseline, RSS < 256 MB.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { CLI } from '../../test/helpers/cli.ts';
import {
  mb,
  measured,
  median,
  pushImages,
  round,
  run,
  sandboxEnv,
  timed,
  type Measurement,
} from '../shared/harness.ts';

const SANDBOX_DIR = '/tmp/bench-sandbox';
const GOAL_RATIO = 0.8;
const GOAL_RSS_MB = 256;

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '20' },
    'total-mb': { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const imageCount = Number(values.images);
const totalBytes = Number(values['total-mb']) * 1e6;
const runs = Number(values.runs);

function spec(references: string[]): string {
  return stringify(
    references.map((image, i) => ({
      id: `apps/v1:Deployment:bench:app-${i}`,
      type: 'Kubernetes',
      attributes: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { namespace: 'bench', name: `app-${i}` },
        spec: { template: { spec: { containers: [{ name: 'app', image }] } } },
      },
    })),
  );
}

/** The baseline build: skopeo into a fresh OCI layout, then tar with zstd, then the file's digest. */
async function baselineBuild(references: string[], ca: string, dir: string): Promise<number> {
  const layout = join(dir, 'images');
  const archive = join(dir, 'baseline.tar.zst');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  const started = performance.now();
  for (const reference of references)
    await run('skopeo', [
      'copy',
      '--quiet',
      '--src-cert-dir',
      dirname(ca),
      `docker://${reference}`,
      `oci:${layout}:${reference}`,
    ]);
  await run('tar', ['--zstd', '-cf', archive, '-C', dir, 'images']);
  await run('sha256sum', [archive]);
  return (performance.now() - started) / 1000;
}

function report(label: string, kdeliver: Measurement[], baseline: number[], packageMb: number) {
  const seconds = median(kdeliver.map((m) => m.seconds));
  const baselineSeconds = median(baseline);
  const ratio = round(baselineSeconds / seconds);
  const peakRssMb = round(Math.max(...kdeliver.map((m) => m.peakRssMb)), 1);
  const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  const line = `${label}: ${ratio}× baseline (goal ≥ ${GOAL_RATIO}: ${verdict(ratio >= GOAL_RATIO)}), peak RSS ${peakRssMb} MB (goal < ${GOAL_RSS_MB}: ${verdict(peakRssMb < GOAL_RSS_MB)})`;
  return {
    line,
    result: {
      kdeliverSeconds: round(seconds),
      baselineSeconds: round(baselineSeconds),
      kdeliverMbPerSecond: round(packageMb / seconds, 1),
      baselineMbPerSecond: round(packageMb / baselineSeconds, 1),
      throughputRatio: ratio,
      peakRssMb,
      runs: { kdeliver: kdeliver.map((m) => round(m.seconds)), baseline: baseline.map((s) => round(s)) },
    },
  };
}

async function main(): Promise<void> {
  const env = await sandboxEnv(SANDBOX_DIR, ['KDELIVER_SOURCE_REGISTRY', 'KDELIVER_SOURCE_REGISTRY_CA']);
  const target = { host: env.KDELIVER_SOURCE_REGISTRY!, ca: env.KDELIVER_SOURCE_REGISTRY_CA! };
  const work = await mkdtemp(join(tmpdir(), 'kdeliver-bench-'));
  try {
    process.stderr.write(`Pushing ${imageCount} images, ${mb(totalBytes)} MB in all…\n`);
    const references = await pushImages(target, { count: imageCount, totalBytes });
    const specFile = join(work, 'bench.yaml');
    await writeFile(specFile, spec(references));
    await run(process.execPath, [CLI, 'keys', 'generate', '--out', work]);
    const pkg = join(work, 'bench.tar.zst');
    const baselineDir = join(work, 'baseline');
    const buildArgs = [
      CLI,
      'build',
      '--spec',
      specFile,
      '--version',
      '1',
      '--key',
      join(work, 'kdeliver.key'),
    ];

    // Alternating runs spread the load of a shared machine over both sides; medians are compared.
    const builds: Measurement[] = [];
    const verifies: Measurement[] = [];
    const baselineBuilds: number[] = [];
    const baselineVerifies: number[] = [];
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`run ${i + 1}/${runs}\n`);
      builds.push(
        await measured(process.execPath, [...buildArgs, '-o', pkg, '--json'], {
          ...env,
          DOCKER_CONFIG: work,
        }),
      );
      verifies.push(
        await measured(process.execPath, [CLI, 'verify', pkg, '--key', join(work, 'kdeliver.pub')]),
      );
      baselineBuilds.push(await baselineBuild(references, target.ca, baselineDir));
      const archive = join(baselineDir, 'baseline.tar.zst');
      baselineVerifies.push(await timed('sh', ['-c', `zstd -dc '${archive}' | sha256sum`]));
    }

    const packageMb = mb((await stat(pkg)).size);
    const build = report('build ', builds, baselineBuilds, packageMb);
    const verify = report('verify', verifies, baselineVerifies, packageMb);
    const results = {
      images: imageCount,
      packageMb: round(packageMb, 1),
      runs,
      build: build.result,
      verify: verify.result,
    };
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n${build.line}\n${verify.line}\n`);
  } finally {
    if (values.keep) process.stderr.write(`Kept ${work}\n`);
    else await rm(work, { recursive: true, force: true });
  }
}

await main();
