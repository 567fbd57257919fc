/**
 * Pieces the benchmarks share: running commands (under GNU time for peak RSS), a sandbox
 * to run against, N random images of a total size in its source registry, and numbers.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, REPO_ROOT, runProgram, type CliResult } from '../../test/helpers/cli.ts';
import { makeImage, pushImage, type RegistryTarget } from '../../test/helpers/oci-images.ts';

/** Layers of at most this size, as real images split their content. */
const MAX_LAYER_BYTES = 64 * 1024 * 1024;

export interface Measurement {
  seconds: number;
  peakRssMb: number;
}

export async function run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  const result = await runProgram(command, args, { env: { ...process.env, ...env } });
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-4000)}`);
  return result;
}

/** Runs a command under GNU time: wall-clock seconds and peak RSS of the process, and its output. */
export async function measured(
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<Measurement & { result: CliResult }> {
  const started = performance.now();
  const result = await run('/usr/bin/time', ['-v', command, ...args], env);
  const seconds = (performance.now() - started) / 1000;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  return { seconds, peakRssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, result };
}

export async function timed(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await run(command, args, env);
  return (performance.now() - started) / 1000;
}

/**
 * The sandbox's variables: from the environment when it has every one of `required`
 * (`eval "$(kdeliver sandbox env)"`), else from a sandbox started (or reused) in `dir`.
 */
export async function sandboxEnv(dir: string, required: readonly string[]): Promise<Record<string, string>> {
  if (required.every((name) => process.env[name]))
    return Object.fromEntries(required.map((name) => [name, process.env[name]!]));
  process.stderr.write(
    `Starting a sandbox in ${dir}; it stays up for the next run (stop it: node bin/kdeliver.js sandbox down --dir ${dir})…\n`,
  );
  await run(process.execPath, [CLI, 'sandbox', 'up', '--dir', dir]);
  const env = await run(process.execPath, [CLI, 'sandbox', 'env', '--dir', dir, '--json']);
  return JSON.parse(env.stdout) as Record<string, string>;
}

/**
 * Pushes `count` images of random layers totalling about `totalBytes` as
 * `<repositoryPrefix>/app-<i>:<tag>`; returns their references.
 */
export async function pushImages(
  target: RegistryTarget,
  {
    count,
    totalBytes,
    repositoryPrefix = 'bench',
  }: { count: number; totalBytes: number; repositoryPrefix?: string },
): Promise<string[]> {
  const perImage = Math.ceil(totalBytes / count);
  const layers = Math.ceil(perImage / MAX_LAYER_BYTES);
  const tag = Date.now().toString(36);
  const references: string[] = [];
  for (let i = 0; i < count; i++) {
    const image = await makeImage(
      { os: 'linux', architecture: 'amd64' },
      Array.from({ length: layers }, () => Math.ceil(perImage / layers)),
    );
    await pushImage(target, `${repositoryPrefix}/app-${i}`, tag, [image]);
    references.push(`${target.host}/${repositoryPrefix}/app-${i}:${tag}`);
    process.stderr.write(`pushed ${i + 1}/${count}\r`);
  }
  process.stderr.write('\n');
  return references;
}

/**
 * The ways kdeliver can run: a command and the arguments before kdeliver's own. `source`
 * (TypeScript stripped at load), `bundle` (node dist/kdeliver.cjs) and `sea`
 * (dist/kdeliver-linux-x64, the single executable that ships); the last two come from
 * `npm run build:bin`.
 */
export const KDELIVER_RUNNERS = {
  source: { command: process.execPath, prefix: [CLI] },
  bundle: { command: process.execPath, prefix: [join(REPO_ROOT, 'dist', 'kdeliver.cjs')] },
  sea: { command: join(REPO_ROOT, 'dist', 'kdeliver-linux-x64'), prefix: [] },
};
export type RunnerName = keyof typeof KDELIVER_RUNNERS;

export const mb = (bytes: number) => bytes / 1e6;
export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
