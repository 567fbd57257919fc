/**
 * Runs the KCL grammar conformance suite in-process and compares with the committed baseline.
 *
 *   node scripts/conformance.ts --suite kcl-grammar [--root DIR] [--manifest FILE]
 *        [--filter TEXT] [--failures] [--json FILE] [--update-baseline] [--mutate N] [--jobs N]
 *
 * Pass rules are the official runner's (see ../shared/conformance/README.md). Cases run
 * in worker threads; a case that does not finish in time is stopped by terminating its
 * worker, so a hang cannot stall the run.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { parseAllDocuments } from 'yaml';
import { KclDiagnostic } from '../src/kcl/diagnostics.ts';
import { parseKclRunArgs, runKcl } from '../src/kcl/run.ts';

const REPO = resolve(import.meta.dirname, '..');
const USAGE = `usage: node scripts/conformance.ts [options]
  --suite NAME        kcl-grammar (default) or konfig
  --root DIR          the suite directory (default ../shared/conformance/kcl-grammar)
  --manifest FILE     the case list (default ROOT/manifest.tsv)
  --filter TEXT       run only the cases whose path contains TEXT
  --failures          list the failing cases, with stderr of the failing error cases
  --json FILE         write every result and outcome to FILE
  --update-baseline   record the passing cases (whole default suite only)
  --mutate N          robustness run: N mutants of each case's main.k
  --jobs N            worker threads`;
const CASE_TIMEOUT_MS = 10_000;
const MUTANT_TIMEOUT_MS = 5_000;

interface Case {
  path: string;
  category: string;
  kind: 'output' | 'error' | 'run-only';
  args: string[];
}

/** What a worker sends back for one run. */
interface RunOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** A JavaScript exception that is not a KCL diagnostic: an interpreter bug. */
  internal: string | null;
  ms: number;
}

interface Job {
  id: number;
  dir: string;
  args: string[];
  /** Replacement text for `<dir>/main.k` (mutation runs). */
  mainText?: string;
}

// ---------------------------------------------------------------------------------------
// Worker side

function runJob(job: Job): RunOutcome {
  const started = performance.now();
  const request = parseKclRunArgs(['main.k', ...job.args]);
  const sources = job.mainText === undefined ? undefined : new Map([[join(job.dir, 'main.k'), job.mainText]]);
  try {
    const result = runKcl({ ...request, cwd: job.dir, ...(sources ? { sources } : {}) });
    const ms = performance.now() - started;
    if (result.ok) return { exitCode: 0, stdout: result.stdout, stderr: '', internal: null, ms };
    return { exitCode: 1, stdout: result.stdout, stderr: result.stderr, internal: null, ms };
  } catch (error) {
    const ms = performance.now() - started;
    if (error instanceof KclDiagnostic)
      return { exitCode: 1, stdout: '', stderr: error.render(), internal: null, ms };
    const text =
      error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
    return { exitCode: 1, stdout: '', stderr: text, internal: text, ms };
  }
}

if (!isMainThread) {
  parentPort!.on('message', (job: Job) => parentPort!.postMessage({ id: job.id, outcome: runJob(job) }));
}

// ---------------------------------------------------------------------------------------
// Pool of workers with a per-job deadline

class Pool {
  private readonly size: number;
  private readonly timeoutMs: number;

  constructor(size: number, timeoutMs: number) {
    this.size = size;
    this.timeoutMs = timeoutMs;
  }

  async run(jobs: Job[], onDone?: (job: Job, outcome: RunOutcome) => void): Promise<Map<number, RunOutcome>> {
    const results = new Map<number, RunOutcome>();
    let next = 0;
    const lane = async () => {
      let worker = this.spawn();
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const outcome = await this.runOne(worker, job);
        if (outcome === null) {
          await worker.terminate();
          worker = this.spawn();
          const timedOut: RunOutcome = {
            exitCode: 1,
            stdout: '',
            stderr: 'timeout',
            internal: `timeout after ${this.timeoutMs} ms`,
            ms: this.timeoutMs,
          };
          results.set(job.id, timedOut);
          onDone?.(job, timedOut);
        } else {
          results.set(job.id, outcome);
          onDone?.(job, outcome);
        }
      }
      await worker.terminate();
    };
    await Promise.all(Array.from({ length: this.size }, lane));
    return results;
  }

  private spawn(): Worker {
    return new Worker(new URL(import.meta.url), { stdout: true, stderr: true });
  }

  private runOne(worker: Worker, job: Job): Promise<RunOutcome | null> {
    return new Promise((resolvePromise) => {
      const timer = setTimeout(() => {
        cleanup();
        resolvePromise(null);
      }, this.timeoutMs);
      const onMessage = (message: { id: number; outcome: RunOutcome }) => {
        if (message.id !== job.id) return;
        cleanup();
        resolvePromise(message.outcome);
      };
      const onError = (error: Error) => {
        cleanup();
        const text = `${error.name}: ${error.message}`;
        resolvePromise({ exitCode: 1, stdout: '', stderr: text, internal: text, ms: 0 });
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage(job);
    });
  }
}

// ---------------------------------------------------------------------------------------
// Pass rules

function yamlDocs(text: string): unknown[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS({ maxAliasCount: -1 }) as unknown)
    .filter((doc) => doc !== null && doc !== undefined);
}

/** Deep equality with mapping order ignored and `1 == 1.0`. */
function sameData(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (typeof a === 'bigint' || typeof b === 'bigint') return Number(a) === Number(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameData(x, b[i]))
    );
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every(
        (k) =>
          Object.hasOwn(b, k) &&
          sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return a === b;
}

function outputPasses(outcome: RunOutcome, golden: string): boolean {
  if (outcome.exitCode !== 0 || !outcome.stdout.endsWith('\n')) return false;
  try {
    return sameData(yamlDocs(outcome.stdout), yamlDocs(golden));
  } catch {
    return false;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

function normalizeStderr(text: string): string {
  return text
    .replace(ANSI, '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .join('\n');
}

/** The error kind a diagnostic text names first, e.g. `TypeError`. */
function errorKind(text: string): string | null {
  const header = /error\[\w+\]:\s*(?:error\[\w+\]:\s*)?(\w+)/.exec(text);
  if (header) return header[1]!;
  const bare = /^\s*(\w+(?:Error|Syntax|Load|Module))\b/m.exec(text);
  return bare ? bare[1]! : null;
}

// ---------------------------------------------------------------------------------------
// Suite

function readManifest(file: string): Case[] {
  const lines = readFileSync(file, 'utf8').split('\n').slice(1);
  const cases: Case[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const [path = '', category = '', kind = '', , args = ''] = line.split('\t');
    cases.push({ path, category, kind: kind as Case['kind'], args: args.split(/\s+/).filter(Boolean) });
  }
  return cases;
}

interface CaseResult {
  path: string;
  category: string;
  kind: Case['kind'];
  pass: boolean;
  loose: boolean;
  internal: string | null;
  ms: number;
}

function judge(c: Case, dir: string, outcome: RunOutcome): CaseResult {
  let pass: boolean;
  let loose = false;
  if (c.kind === 'output') {
    pass = outputPasses(outcome, readFileSync(join(dir, 'stdout.golden'), 'utf8'));
  } else if (c.kind === 'run-only') {
    pass = outcome.exitCode === 0;
  } else {
    const goldenPath = join(dir, 'stderr.golden');
    // Without its golden an error case cannot pass.
    const golden = existsSync(goldenPath)
      ? readFileSync(goldenPath, 'utf8').replaceAll('${CWD}', dir)
      : undefined;
    const failed = golden !== undefined && outcome.exitCode !== 0 && outcome.internal === null;
    pass = failed && normalizeStderr(outcome.stderr).includes(normalizeStderr(golden));
    loose = failed && (errorKind(golden) === null || errorKind(golden) === errorKind(outcome.stderr));
  }
  return {
    path: c.path,
    category: c.category,
    kind: c.kind,
    pass,
    loose: loose || pass,
    internal: outcome.internal,
    ms: outcome.ms,
  };
}

function pct(n: number, d: number): string {
  return d === 0
    ? '     -    '
    : `${String(n).padStart(4)}/${String(d).padEnd(4)} ${((100 * n) / d).toFixed(0).padStart(3)}%`;
}

function printTable(results: CaseResult[]): void {
  const categories = [...new Set(results.map((r) => r.category))].sort();
  const row = (name: string, rs: CaseResult[]) => {
    const of = (kind: Case['kind']) => rs.filter((r) => r.kind === kind);
    const out = of('output');
    const err = of('error');
    const run = of('run-only');
    console.log(
      `${name.padEnd(24)} ${pct(out.filter((r) => r.pass).length, out.length).padEnd(16)} ` +
        `${pct(err.filter((r) => r.pass).length, err.length).padEnd(16)} ` +
        `${pct(err.filter((r) => r.loose).length, err.length).padEnd(16)} ` +
        `${pct(run.filter((r) => r.pass).length, run.length)}`,
    );
  };
  console.log(
    `${'category'.padEnd(24)} ${'output'.padEnd(16)} ${'error strict'.padEnd(16)} ${'error loose'.padEnd(16)} run-only`,
  );
  for (const category of categories)
    row(
      category,
      results.filter((r) => r.category === category),
    );
  console.log('-'.repeat(90));
  row('TOTAL', results);
}

// ---------------------------------------------------------------------------------------
// Mutation (robustness) mode

/** A small seeded generator (mulberry32), so mutation runs are repeatable. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(text: string, rand: () => number): string {
  if (text.length === 0) return text;
  const at = Math.floor(rand() * text.length);
  const span = 1 + Math.floor(rand() * 12);
  switch (Math.floor(rand() * 4)) {
    case 0:
      return text.slice(0, at) + text.slice(at + span);
    case 1:
      return text.slice(0, at) + text.slice(at, at + span) + text.slice(at);
    case 2: {
      const other = Math.floor(rand() * text.length);
      const chars = [...text];
      [chars[at], chars[other]] = [chars[other]!, chars[at]!];
      return chars.join('');
    }
    default:
      return text.slice(0, at);
  }
}

// ---------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      suite: { type: 'string', default: 'kcl-grammar' },
      root: { type: 'string' },
      manifest: { type: 'string' },
      json: { type: 'string' },
      'update-baseline': { type: 'boolean', default: false },
      mutate: { type: 'string' },
      jobs: { type: 'string' },
      filter: { type: 'string' },
      failures: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.suite === 'konfig') {
    await import('./konfig-conformance.ts');
    return Number(process.exitCode ?? 0);
  }
  if (values.suite !== 'kcl-grammar') {
    console.error(`unknown suite '${values.suite}' (known: kcl-grammar, konfig)`);
    return 2;
  }
  const root = resolve(values.root ?? join(REPO, '..', 'shared', 'conformance', 'kcl-grammar'));
  const manifest = resolve(values.manifest ?? join(root, 'manifest.tsv'));
  const jobs = Number(values.jobs ?? Math.max(1, Math.min(availableParallelism(), 4)));
  let cases = readManifest(manifest);
  if (values.filter) cases = cases.filter((c) => c.path.includes(values.filter!));
  const missing = cases.filter((c) => !existsSync(join(root, 'cases', c.path)));
  if (missing.length > 0) {
    // A damaged suite is not an interpreter regression, but it must not pass silently either.
    console.log(
      `warning: ${missing.length} case(s) of the manifest are missing from ${root} and are not run: ${missing.map((c) => c.path).join(', ')}`,
    );
    cases = cases.filter((c) => !missing.includes(c));
  }
  // Cases write files (file.mkdir, json.dump_to_file, …); they run in a copy of the suite so
  // that the shared directory stays as it was laid out.
  const workRoot = mkdtempSync(join(tmpdir(), 'kdeliver-kcl-grammar-'));
  process.on('exit', () => rmSync(workRoot, { recursive: true, force: true }));
  cpSync(join(root, 'cases'), join(workRoot, 'cases'), { recursive: true });
  const dirOf = (c: Case) => join(workRoot, 'cases', c.path);

  if (values.mutate !== undefined) return mutationRun(cases, dirOf, Number(values.mutate), jobs);

  const started = performance.now();
  const pool = new Pool(jobs, CASE_TIMEOUT_MS);
  const outcomes = await pool.run(cases.map((c, id) => ({ id, dir: dirOf(c), args: c.args })));
  const results = cases.map((c, id) => judge(c, dirOf(c), outcomes.get(id)!));
  const wall = performance.now() - started;

  printTable(results);
  console.log(`\nwall time ${(wall / 1000).toFixed(1)} s, ${jobs} workers`);
  const internal = results.filter((r) => r.internal !== null);
  if (internal.length > 0) {
    console.log(`\ninternal errors (${internal.length}):`);
    for (const r of internal.slice(0, 20)) console.log(`  ${r.path}: ${r.internal!.split('\n')[0]}`);
  }
  if (values.failures) {
    console.log('\nfailing cases:');
    results.forEach((r, id) => {
      if (r.pass) return;
      console.log(`  ${r.kind.padEnd(8)} ${r.path}${r.kind === 'error' && r.loose ? ' (loose pass)' : ''}`);
      if (r.kind === 'error') console.log(outcomes.get(id)!.stderr.replace(/^/gm, '      '));
    });
  }
  console.log('\nslowest cases:');
  for (const r of [...results].sort((a, b) => b.ms - a.ms).slice(0, 8)) {
    console.log(`  ${r.ms.toFixed(0).padStart(6)} ms  ${r.path}`);
  }

  if (values.json) {
    writeFileSync(
      resolve(values.json),
      JSON.stringify(
        { results, outcomes: Object.fromEntries(cases.map((c, id) => [c.path, outcomes.get(id)])) },
        null,
        2,
      ),
    );
  }

  const baselineFile = join(REPO, 'test', 'conformance', `${values.suite}-baseline.json`);
  const baseline: { passing: string[]; errorLoose: string[] } = existsSync(baselineFile)
    ? (JSON.parse(readFileSync(baselineFile, 'utf8')) as { passing: string[]; errorLoose: string[] })
    : { passing: [], errorLoose: [] };
  const passing = results
    .filter((r) => r.pass)
    .map((r) => r.path)
    .sort();
  const errorLoose = results
    .filter((r) => r.kind === 'error' && r.loose)
    .map((r) => r.path)
    .sort();
  const ran = new Set(cases.map((c) => c.path));
  const nowPassing = new Set(passing);
  const nowLoose = new Set(errorLoose);
  const regressions = [
    ...baseline.passing.filter((p) => ran.has(p) && !nowPassing.has(p)),
    ...baseline.errorLoose.filter((p) => ran.has(p) && !nowLoose.has(p)).map((p) => `${p} (loose)`),
  ];
  if (regressions.length > 0) {
    console.log(`\nREGRESSIONS against ${baselineFile} (${regressions.length}):`);
    for (const p of regressions) console.log(`  ${p}`);
    return 1;
  }
  const gained = passing.filter((p) => !baseline.passing.includes(p)).length;
  console.log(`\nno regressions; ${gained} cases pass that the baseline does not list`);
  if (values['update-baseline']) {
    if (values.filter || values.root || values.manifest || missing.length > 0) {
      console.log('baseline not updated: run the whole default suite to update it');
    } else {
      writeFileSync(baselineFile, JSON.stringify({ passing, errorLoose }, null, 2) + '\n');
      console.log(`baseline updated: ${baselineFile}`);
    }
  }
  return 0;
}

async function mutationRun(
  cases: Case[],
  dirOf: (c: Case) => string,
  n: number,
  jobs: number,
): Promise<number> {
  const rand = random(0x6b636c);
  const work: Job[] = [];
  for (const c of cases) {
    const file = join(dirOf(c), 'main.k');
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (let i = 0; i < n; i++)
      work.push({ id: work.length, dir: dirOf(c), args: c.args, mainText: mutate(text, rand) });
  }
  const pool = new Pool(jobs, MUTANT_TIMEOUT_MS);
  const outcomes = await pool.run(work);
  const failures = work.filter((job) => outcomes.get(job.id)?.internal);
  console.log(
    `mutants run: ${work.length}; internal errors (exceptions or hangs over 5 s): ${failures.length}`,
  );
  const kinds = new Map<string, number>();
  for (const job of failures) {
    const first = outcomes.get(job.id)!.internal!.split('\n')[0]!;
    kinds.set(first, (kinds.get(first) ?? 0) + 1);
  }
  for (const [first, count] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`  ${count}× ${first}`);
  return 0;
}

if (isMainThread) process.exitCode = await main();
