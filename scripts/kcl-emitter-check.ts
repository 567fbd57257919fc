/**
 * Round-trips every `output` case of the KCL grammar suite through the emitter: each
 * `stdout.golden` is parsed with the `yaml` package into KCL values, printed again with
 * the case's `--sort_keys` / `-n` / `--show_hidden` flags, and compared byte for byte.
 *
 *   node scripts/kcl-emitter-check.ts [SUITE_ROOT] [--verbose]
 *
 * A golden without a final newline is compared as if it had one (`kcl run` always ends
 * its output with a newline; the suite's runner compares parsed documents).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, parseAllDocuments, type Node } from 'yaml';
import { emitYaml, emitYamlStream, type EmitOptions } from '../src/kcl/emitter.ts';
import { KclDict, KclList, type KclValue } from '../src/kcl/values.ts';

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const root = resolve(args.find((a) => !a.startsWith('--')) ?? '../shared/conformance/kcl-grammar');

function toValue(node: Node | null): KclValue {
  if (node === null) return null;
  if (isMap(node)) {
    const dict = new KclDict();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      dict.entries.set(key, toValue(pair.value as Node | null));
    }
    return dict;
  }
  if (isSeq(node)) return new KclList(node.items.map((item) => toValue(item as Node | null)));
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || typeof v === 'boolean' || typeof v === 'bigint' || typeof v === 'string') return v;
    if (typeof v === 'number') return v;
    return String(v);
  }
  throw new Error(`unsupported YAML node ${String(node)}`);
}

interface CaseResult {
  path: string;
  identical: boolean;
  expected: string;
  actual: string;
}

function checkCase(casePath: string, argText: string): CaseResult | undefined {
  const dir = join(root, 'cases', casePath);
  const goldenPath = join(dir, 'stdout.golden');
  if (!existsSync(goldenPath)) return undefined;
  const raw = readFileSync(goldenPath, 'utf8');
  const expected = raw === '' || raw.endsWith('\n') ? raw : `${raw}\n`;
  const flags = argText.split(/\s+/);
  const options: EmitOptions = {
    sortKeys: flags.includes('--sort_keys'),
    omitNone: flags.includes('-n'),
    showHidden: true,
  };
  const docs = parseAllDocuments(raw, { intAsBigInt: true });
  const values = (Array.isArray(docs) ? docs : []).map((d) => toValue(d.contents as Node | null));
  const actual =
    values.length === 0
      ? ''
      : values.length === 1
        ? emitYaml(values[0] ?? null, options)
        : emitYamlStream(values, options);
  return { path: casePath, identical: actual === expected, expected, actual };
}

const manifest = readFileSync(join(root, 'manifest.tsv'), 'utf8').trim().split('\n').slice(1);
const results: CaseResult[] = [];
for (const line of manifest) {
  const [casePath = '', , kind, , argText = ''] = line.split('\t');
  if (kind !== 'output') continue;
  const result = checkCase(casePath, argText);
  if (result) results.push(result);
}

const failed = results.filter((r) => !r.identical);
console.log(`${results.length - failed.length}/${results.length} output goldens re-emitted byte-identical`);
for (const r of failed) {
  console.log(`\n--- ${r.path}`);
  if (!verbose) continue;
  const expectedLines = r.expected.split('\n');
  const actualLines = r.actual.split('\n');
  for (let i = 0; i < Math.max(expectedLines.length, actualLines.length); i++) {
    if (expectedLines[i] !== actualLines[i]) {
      console.log(
        `  line ${i + 1}\n    golden:  ${JSON.stringify(expectedLines[i])}\n    emitted: ${JSON.stringify(actualLines[i])}`,
      );
      break;
    }
  }
}
