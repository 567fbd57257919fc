/**
 * Benchmark of `kdeliver compile` on a real Konfig stack: cold (a new process each time,
 * from process start to the spec written; median of 5), warm (20 compiles in one process)
 * and the share of a compile spent parsing (with the checker) versus evaluating.
 *
 *   node bench/kcl/run.ts [--root ../shared/conformance/konfig] [--stack appops/guestbook/dev]
 *
 * Cold runs are measured for the source entry (bin/kdeliver.js on Node's type stripping)
 * and, when `npm run build:bin` has made it, for dist/kdeliver-linux-x64, the single
 * executable that is shipped. Goal: cold < 1 s.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CLI, REPO_ROOT, runProgram } from '../../test/helpers/cli.ts';
import { parseOptionArgument } from '../../src/kcl/builtins/index.ts';
import { Evaluator } from '../../src/kcl/evaluator/evaluator.ts';
import { Loader } from '../../src/kcl/loader.ts';
import { compileStack, optionArguments } from '../../src/kcl/project/compile.ts';
import { loadStack, type KonfigStack } from '../../src/kcl/project/stack.ts';

const COLD_RUNS = 5;
const WARM_RUNS = 20;
const GOAL_COLD_MS = 1000;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Process start to spec written, for a command line that ends in kdeliver's arguments. */
async function coldMs(command: string, prefix: string[], stackDir: string): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < COLD_RUNS; run++) {
    const started = performance.now();
    const result = await runProgram(command, [...prefix, 'compile', stackDir, '-o', '/dev/null']);
    times.push(performance.now() - started);
    if (result.code !== 0) throw new Error(`compile failed:\n${result.stderr}`);
  }
  return times;
}

function warmMs(stack: KonfigStack): number[] {
  const times: number[] = [];
  for (let run = 0; run < WARM_RUNS; run++) {
    const started = performance.now();
    compileStack(stack);
    times.push(performance.now() - started);
  }
  return times;
}

/** A loader that adds up the time spent parsing and checking each file it reads. */
class TimedLoader extends Loader {
  parseMs = 0;
  readonly files = new Set<string>();

  override parse(file: string) {
    this.files.add(file);
    const started = performance.now();
    try {
      return super.parse(file);
    } finally {
      this.parseMs += performance.now() - started;
    }
  }
}

/** Parse and evaluation time of one compile, run the way runKcl runs it. */
function phases(stack: KonfigStack): { parseMs: number; evaluateMs: number; files: number } {
  const started = performance.now();
  const loader = new TimedLoader(stack.root);
  const modules = stack.settings.files.map((file) => loader.parse(resolve(stack.dir, file)));
  const evaluator = new Evaluator(loader, {
    options: new Map(optionArguments(stack).map(parseOptionArgument)),
    write: () => {},
    strictRangeCheck: false,
    workdir: stack.dir,
    modRoot: stack.root,
  });
  evaluator.evaluateMain(modules);
  const totalMs = performance.now() - started;
  return { parseMs: loader.parseMs, evaluateMs: totalMs - loader.parseMs, files: loader.files.size };
}

const { values } = parseArgs({
  options: {
    root: {
      type: 'string',
      default: resolve(import.meta.dirname, '..', '..', '..', 'shared', 'conformance', 'konfig'),
    },
    stack: { type: 'string', default: 'appops/guestbook/dev' },
  },
});
const stackDir = join(resolve(values.root), values.stack);
const stack = loadStack(stackDir);
const executable = join(REPO_ROOT, 'dist', 'kdeliver-linux-x64');
const cold = await coldMs(process.execPath, [CLI], stackDir);
const coldExecutable = existsSync(executable) ? await coldMs(executable, [], stackDir) : undefined;
const warm = warmMs(stack);
// A fresh loader and evaluator after the warm-up: steady-state phase times.
const split = phases(stack);
const share = (ms: number) => `${((ms / (split.parseMs + split.evaluateMs)) * 100).toFixed(0)}%`;
console.log(`stack ${stack.path}`);
const coldLine = (label: string, times: number[]) =>
  `cold ${label} median ${median(times).toFixed(0)} ms of ${COLD_RUNS} (${times.map((ms) => ms.toFixed(0)).join(', ')}); goal < ${GOAL_COLD_MS} ms: ${median(times) < GOAL_COLD_MS ? 'met' : 'NOT met'}`;
console.log(coldLine('(source, bin/kdeliver.js)', cold));
console.log(
  coldExecutable
    ? coldLine('(single executable)', coldExecutable)
    : 'cold (single executable): not measured, run npm run build:bin first',
);
console.log(
  `warm  median ${median(warm).toFixed(1)} ms, first ${warm[0]!.toFixed(1)} ms, of ${WARM_RUNS} in one process`,
);
console.log(
  `split parse+check ${split.parseMs.toFixed(1)} ms (${share(split.parseMs)}), evaluate ${split.evaluateMs.toFixed(1)} ms (${share(split.evaluateMs)}), ${split.files} files`,
);
