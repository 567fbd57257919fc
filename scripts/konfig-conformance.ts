/**
 * Compiles the stacks of a real Konfig repository in-process and compares each with its
 * `ci-test/stdout.golden.yaml` as Konfig's CI did (YAML values, list and key order
 * ignored), then compares the passing set with the committed baseline.
 *
 *   node scripts/konfig-conformance.ts [--root DIR] [--stacks FILE] [--json FILE] [--update-baseline]
 *
 * Exits 1 when a stack the baseline lists as passing no longer passes.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { messageOf } from '../src/errors.ts';
import { compileStack } from '../src/kcl/project/compile.ts';
import { loadStack } from '../src/kcl/project/stack.ts';
import { firstDifference } from '../src/kcl/project/unordered-equal.ts';

const REPO = resolve(import.meta.dirname, '..');
const BASELINE = join(REPO, 'test', 'conformance', 'konfig-baseline.json');

interface StackRow {
  stack: string;
  golden: string;
}

interface StackResult {
  stack: string;
  status: 'pass' | 'differs' | 'error';
  ms: number;
  reason: string;
}

/** Rows of konfig-stacks.tsv: a header, then `stack kcl_yaml settings golden` per line. */
function readStackList(file: string): StackRow[] {
  const lines = readFileSync(file, 'utf8').split('\n').slice(1);
  return lines
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [stack, , , golden] = line.split('\t');
      if (!stack) throw new Error(`${file}: a line without a stack: ${line}`);
      return { stack, golden: golden ?? `${stack}/ci-test/stdout.golden.yaml` };
    });
}

function runStack(root: string, row: StackRow): StackResult {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const { resources } = compileStack(loadStack(join(root, row.stack)));
    const ms = elapsed();
    const golden: unknown = parseYaml(readFileSync(join(root, row.golden), 'utf8'));
    const difference = firstDifference(resources, golden);
    return difference === undefined
      ? { stack: row.stack, status: 'pass', ms, reason: '' }
      : { stack: row.stack, status: 'differs', ms, reason: difference };
  } catch (error) {
    return { stack: row.stack, status: 'error', ms: elapsed(), reason: messageOf(error) };
  }
}

/** The first informative line of an error: the diagnostic's message and its position. */
function summary(reason: string): string {
  const lines = reason.split('\n').map((line) => line.trim());
  const message =
    lines.find((line) => /^(error|EvaluationError|[A-Z]\w+Error)\b/.test(line)) ?? lines[0] ?? '';
  const position = lines.find((line) => line.startsWith('-->')) ?? '';
  return `${message} ${position}`.trim().slice(0, 160);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      // Accepted so that `npm run conformance -- --suite konfig` reaches this runner unchanged.
      suite: { type: 'string', default: 'konfig' },
      root: { type: 'string', default: resolve(REPO, '..', 'shared', 'conformance', 'konfig') },
      stacks: { type: 'string' },
      json: { type: 'string' },
      'update-baseline': { type: 'boolean', default: false },
    },
  });
  const root = resolve(values.root);
  const stackList = resolve(values.stacks ?? join(root, '..', 'konfig-stacks.tsv'));
  const results = readStackList(stackList).map((row) => runStack(root, row));

  const width = Math.max(...results.map((r) => r.stack.length));
  for (const r of results) {
    console.log(
      `${r.stack.padEnd(width)}  ${r.status.padEnd(7)} ${String(r.ms).padStart(5)} ms  ${summary(r.reason)}`,
    );
  }
  const passing = results.filter((r) => r.status === 'pass').map((r) => r.stack);
  console.log(`\n${passing.length}/${results.length} stacks match their golden files`);
  if (values.json) writeFileSync(resolve(values.json), `${JSON.stringify(results, null, 2)}\n`);

  const baseline = existsSync(BASELINE)
    ? (JSON.parse(readFileSync(BASELINE, 'utf8')) as { passing: string[] })
    : { passing: [] };
  const ran = new Set(results.map((r) => r.stack));
  const regressions = baseline.passing.filter((stack) => ran.has(stack) && !passing.includes(stack));
  if (regressions.length > 0) {
    console.log(`\nREGRESSIONS against ${BASELINE}:`);
    for (const stack of regressions) console.log(`  ${stack}`);
    process.exitCode = 1;
    return;
  }
  console.log(
    `no regressions; ${passing.filter((s) => !baseline.passing.includes(s)).length} stacks pass that the baseline does not list`,
  );
  if (values['update-baseline']) {
    writeFileSync(BASELINE, `${JSON.stringify({ passing: passing.sort() }, null, 2)}\n`);
    console.log(`baseline updated: ${BASELINE}`);
  }
}

main();
