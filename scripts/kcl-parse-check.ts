/**
 * Parses every `.k` file of every case in the KCL grammar suite and reports how the
 * parser fares: files parsed, parse failures in cases that must run, and for cases whose
 * expected error is a syntax error, whether ours has the same kind and position.
 *
 *   node_modules/.bin/node scripts/kcl-parse-check.ts [SUITE_ROOT]
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KclDiagnostic } from '../src/kcl/diagnostics.ts';
import { parseModule } from '../src/kcl/parser.ts';

const SYNTAX_KINDS = new Set(['InvalidSyntax', 'TabError', 'IndentationError']);

interface Case {
  path: string;
  kind: string;
  dir: string;
}

interface ExpectedError {
  kind: string;
  file: string;
  line: number;
  column: number;
}

const root = resolve(
  process.argv[2] ?? join(import.meta.dirname, '..', '..', 'shared', 'conformance', 'kcl-grammar'),
);
const cases = readManifest(root);

let fileCount = 0;
let parsedCount = 0;
let parseMillis = 0;
const failuresInRunnableCases: string[] = [];
const unexpectedInErrorCases: string[] = [];
const errorsMatchingGoldenMessage: string[] = [];
const crashes: string[] = [];
let syntaxCases = 0;
let syntaxMatched = 0;
let syntaxSameKind = 0;
let syntaxRenderedInGolden = 0;
let syntaxGoldenFullyRendered = 0;
const syntaxMismatches: string[] = [];
const seen = new Set<string>();

for (const testCase of cases) {
  if (!existsSync(testCase.dir)) {
    console.log(`warning: ${testCase.dir} is listed in the manifest but missing; skipped`);
    continue;
  }
  const files = listKclFiles(testCase.dir);
  const expected = testCase.kind === 'error' ? expectedSyntaxError(testCase.dir) : null;
  if (expected) syntaxCases++;
  let matched = false;
  let sameKind = false;
  let found: string | null = null;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const counted = !seen.has(file);
    seen.add(file);
    const started = performance.now();
    let error: KclDiagnostic | null = null;
    try {
      parseModule(text, file);
    } catch (thrown) {
      if (thrown instanceof KclDiagnostic) error = thrown;
      else
        crashes.push(
          `${relative(root, file)}: ${thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)}`,
        );
    }
    const elapsed = performance.now() - started;
    if (counted) {
      fileCount++;
      parseMillis += elapsed;
      if (!error) parsedCount++;
    }
    if (!error) continue;
    const label = error.primary;
    const where = `${relative(root, file)}:${label?.line ?? '?'}:${label?.column ?? '-'}: ${label?.message ?? error.message}`;
    if (testCase.kind !== 'error') failuresInRunnableCases.push(where);
    else if (!expected) {
      // Some goldens are message-only forms of errors the parser reports (illegal assignment targets).
      if (label && goldenText(testCase.dir).includes(label.message)) errorsMatchingGoldenMessage.push(where);
      else unexpectedInErrorCases.push(where);
    } else {
      found ??= where;
      if (error.kind === expected.kind && file === expected.file) {
        sameKind = true;
        if (label && label.line === expected.line && (label.column ?? 1) === expected.column) matched = true;
        const golden = withoutBlankLines(goldenText(testCase.dir).replaceAll('${CWD}', testCase.dir));
        const rendered = withoutBlankLines(error.render());
        if (golden.includes(rendered)) syntaxRenderedInGolden++;
        if (rendered.includes(golden)) syntaxGoldenFullyRendered++;
      }
    }
  }
  if (expected) {
    if (sameKind) syntaxSameKind++;
    if (matched) syntaxMatched++;
    else {
      const wanted = `${relative(root, expected.file)}:${expected.line}:${expected.column} ${expected.kind}`;
      syntaxMismatches.push(`${testCase.path}: expected ${wanted}; got ${found ?? 'no syntax error'}`);
    }
  }
}

console.log(`suite: ${root}`);
console.log(
  `cases: ${cases.length}, files: ${fileCount}, parsed: ${parsedCount}, failed: ${fileCount - parsedCount}`,
);
console.log(
  `parse time: ${parseMillis.toFixed(1)} ms total, ${(parseMillis / Math.max(1, fileCount)).toFixed(3)} ms per file`,
);
printList('files of output/run-only cases that failed to parse', failuresInRunnableCases);
printList(
  'error cases without a syntax-error golden, parse error found in golden',
  errorsMatchingGoldenMessage,
);
printList('error cases without a syntax-error golden, parse error not in golden', unexpectedInErrorCases);
console.log(
  `syntax-error cases: ${syntaxCases}, same kind: ${syntaxSameKind}, same kind and position: ${syntaxMatched}`,
);
console.log(`  our rendered diagnostics found verbatim in the golden: ${syntaxRenderedInGolden}`);
console.log(`  whole golden reproduced (passes on the parser alone): ${syntaxGoldenFullyRendered}`);
printList('syntax-error cases not matched', syntaxMismatches);
printList('crashes (exceptions other than KclDiagnostic)', crashes);
process.exitCode = crashes.length > 0 ? 1 : 0;

function printList(title: string, items: string[]): void {
  console.log(`${title}: ${items.length}`);
  for (const item of items) console.log(`  ${item}`);
}

function readManifest(suiteRoot: string): Case[] {
  const lines = readFileSync(join(suiteRoot, 'manifest.tsv'), 'utf8').split('\n').slice(1);
  const result: Case[] = [];
  for (const line of lines) {
    const [path, , kind] = line.split('\t');
    if (!path || !kind) continue;
    result.push({ path, kind, dir: join(suiteRoot, 'cases', path) });
  }
  return result;
}

function listKclFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) files.push(...listKclFiles(full));
    else if (entry.endsWith('.k')) files.push(full);
  }
  return files;
}

function withoutBlankLines(text: string): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .join('\n');
}

function goldenText(dir: string): string {
  try {
    return readFileSync(join(dir, 'stderr.golden'), 'utf8');
  } catch {
    return '';
  }
}

/** The first diagnostic of `stderr.golden` when it is a syntax error. */
function expectedSyntaxError(dir: string): ExpectedError | null {
  const golden = goldenText(dir);
  const header = /error\[[A-Z0-9]+\]: (\w+)/.exec(golden);
  if (!header?.[1] || !SYNTAX_KINDS.has(header[1])) return null;
  const position = /--> (.+):(\d+):(\d+)/.exec(golden.slice(header.index));
  if (!position?.[1]) return null;
  return {
    kind: header[1],
    file: resolve(position[1].replace('${CWD}', dir)),
    line: Number(position[2]),
    column: Number(position[3]),
  };
}
