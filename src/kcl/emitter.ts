/**
 * YAML and JSON output as `kcl run` prints it.
 *
 * The value is first reduced to plain data (`toPlain`): hidden names, Undefined,
 * functions, schema types and modules are dropped, number multipliers become numbers,
 * and `omitNone` removes null values at every depth. The YAML writer is a small
 * block-style emitter because KCL's quoting (single quotes, double quotes when the text
 * holds a `'`, literal blocks for multi-line text, sequences not indented under their
 * key) is not a configuration of the `yaml` package.
 */
import { configEntries, formatFloat, formatUnitNumber, type KclValue } from './values.ts';

export interface EmitOptions {
  /** Sort mapping keys (`--sort_keys`). */
  sortKeys?: boolean;
  /** Keep `_`-prefixed names (`--show_hidden`). */
  showHidden?: boolean;
  /** Drop None values at every depth (`-n`). */
  omitNone?: boolean;
}

/** Data after filtering: what the writers print. Ints stay bigint, floats number. */
type Plain = null | boolean | bigint | number | string | PlainNumberText | Plain[] | PlainMap;
type PlainMap = Map<string, Plain>;
/** A number already formatted (a number multiplier's magnitude). */
interface PlainNumberText {
  readonly text: string;
}

function isOmitted(v: KclValue): boolean {
  if (v === null || typeof v !== 'object') return false;
  return v.kind === 'undefined' || v.kind === 'function' || v.kind === 'module' || v.kind === 'schemaType';
}

function toPlain(v: KclValue, options: EmitOptions): Plain {
  if (v === null || typeof v !== 'object') return v;
  switch (v.kind) {
    case 'list': {
      const out: Plain[] = [];
      for (const item of v.items) {
        if (isOmitted(item) || (item === null && options.omitNone)) continue;
        out.push(toPlain(item, options));
      }
      return out;
    }
    case 'dict':
    case 'schema':
      return plainMap(configEntries(v), options);
    case 'unit':
      return { text: formatUnitNumber(v) };
    default:
      // Callables, modules and Undefined never reach here: their parents skip them.
      return null;
  }
}

function plainMap(entries: Iterable<readonly [string, KclValue]>, options: EmitOptions): PlainMap {
  const out: PlainMap = new Map();
  let pairs = [...entries];
  if (options.sortKeys) pairs = pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, value] of pairs) {
    if (!options.showHidden && key.startsWith('_')) continue;
    if (isOmitted(value) || (value === null && options.omitNone)) continue;
    out.set(key, toPlain(value, options));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// YAML

/** The program's top-level exported names, in order, as one YAML document. */
export function emitResultYaml(
  result: Iterable<readonly [string, KclValue]>,
  options: EmitOptions = {},
): string {
  return writeYamlDocument(plainMap(result, options));
}

/** One value as a YAML document (what `yaml.encode` and `-S path` print). */
export function emitYaml(value: KclValue, options: EmitOptions = {}): string {
  return writeYamlDocument(toPlainTop(value, options));
}

/** Several values as a YAML stream joined by `sep` lines (`manifests.yaml_stream`). */
export function emitYamlStream(values: readonly KclValue[], options: EmitOptions = {}, sep = '---'): string {
  return values.map((v) => emitYaml(v, options)).join(`${sep}\n`);
}

function toPlainTop(value: KclValue, options: EmitOptions): Plain {
  return isOmitted(value) ? null : toPlain(value, options);
}

function writeYamlDocument(value: Plain): string {
  const lines: string[] = [];
  if (Array.isArray(value) && value.length > 0) writeSequence(value, 0, lines);
  else if (value instanceof Map && value.size > 0) writeMapping(value, 0, lines);
  else pushScalar(value, '', 2, lines);
  return lines.join('\n') + '\n';
}

function isBlockCollection(v: Plain): v is Plain[] | PlainMap {
  return (Array.isArray(v) && v.length > 0) || (v instanceof Map && v.size > 0);
}

/** Appends a scalar after `head` (`key: `, `- ` or nothing); literal blocks continue at `indent`. */
function pushScalar(value: Plain, head: string, indent: number, lines: string[]): void {
  const scalar = scalarText(value, indent);
  lines.push(head + scalar.first, ...scalar.rest);
}

/** `firstLinePrefix` replaces the indentation of the first line (a mapping that is a `- ` item). */
function writeMapping(map: PlainMap, indent: number, lines: string[], firstLinePrefix?: string): void {
  const pad = ' '.repeat(indent);
  let first = true;
  for (const [key, value] of map) {
    const keyLine = `${first && firstLinePrefix !== undefined ? firstLinePrefix : pad}${yamlKey(key)}:`;
    first = false;
    if (Array.isArray(value) && value.length > 0) {
      lines.push(keyLine);
      // Sequences under a key are not indented; mappings are.
      writeSequence(value, indent, lines);
    } else if (value instanceof Map && value.size > 0) {
      lines.push(keyLine);
      writeMapping(value, indent + 2, lines);
    } else {
      pushScalar(value, `${keyLine} `, indent + 2, lines);
    }
  }
}

function writeSequence(items: Plain[], indent: number, lines: string[], firstLinePrefix?: string): void {
  const pad = ' '.repeat(indent);
  items.forEach((item, i) => {
    const itemPrefix = `${i === 0 && firstLinePrefix !== undefined ? firstLinePrefix : pad}- `;
    if (Array.isArray(item) && isBlockCollection(item)) writeSequence(item, indent + 2, lines, itemPrefix);
    else if (item instanceof Map && isBlockCollection(item))
      writeMapping(item, indent + 2, lines, itemPrefix);
    else pushScalar(item, itemPrefix, indent + 2, lines);
  });
}

interface ScalarText {
  first: string;
  rest: string[];
}

function scalarText(value: Plain, indent: number): ScalarText {
  if (value === null) return { first: 'null', rest: [] };
  if (Array.isArray(value)) return { first: '[]', rest: [] };
  if (value instanceof Map) return { first: '{}', rest: [] };
  switch (typeof value) {
    case 'boolean':
      return { first: String(value), rest: [] };
    case 'bigint':
      return { first: value.toString(), rest: [] };
    case 'number':
      return { first: yamlFloat(value), rest: [] };
    case 'string':
      return yamlString(value, indent);
    default:
      return { first: value.text, rest: [] };
  }
}

function yamlFloat(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (!Number.isFinite(x)) return x > 0 ? '.inf' : '-.inf';
  return formatFloat(x);
}

/**
 * Text a YAML 1.1 or 1.2 reader would take for something other than a string, so KCL
 * quotes it. Single-letter booleans (`y`, `n`) are the exception: KCL prints them plain.
 */
const NON_STRING_PLAIN =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0[0-7_]+|[-+]?0o[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+|[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

function plainAllowed(s: string): boolean {
  if (s === '' || NON_STRING_PLAIN.test(s)) return false;
  if (s.startsWith(' ') || s.endsWith(' ')) return false;
  if (s.startsWith('---') || s.startsWith('...')) return false;
  if (/^[#,[\]{}&*!|>'"%@`]/.test(s)) return false;
  if (/^[-?:](?:\s|$)/.test(s)) return false;
  if (/: |:$| #/.test(s)) return false;
  if (/[^\x20-\x7e\u0085\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(s)) return false;
  return true;
}

function needsDoubleQuotes(s: string): boolean {
  return s.includes("'") || /[^\x20-\x7e\u0085\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(s);
}

function yamlKey(key: string): string {
  return yamlString(key, 0).first;
}

function yamlString(s: string, indent: number): ScalarText {
  if (s.includes('\n') && literalAllowed(s)) return literalBlock(s, indent);
  if (plainAllowed(s)) return { first: s, rest: [] };
  if (needsDoubleQuotes(s) || s.includes('\n')) return { first: doubleQuoted(s), rest: [] };
  return { first: `'${s}'`, rest: [] };
}

function literalAllowed(s: string): boolean {
  // Trailing spaces on a line and control characters cannot be kept in a literal block.
  if (/ \n| $/.test(s)) return false;
  return !/[^\n\x20-\x7e\u0085\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(s);
}

function literalBlock(s: string, indent: number): ScalarText {
  const trailing = /\n+$/.exec(s)?.[0].length ?? 0;
  // Keep (`+`) when more than one break ends the text or the text is only breaks.
  const chomp = trailing === 0 ? '-' : trailing === 1 && trailing < s.length ? '' : '+';
  const body = chomp === '' ? s.slice(0, -1) : s;
  const indentIndicator = /^[ \n]/.test(s) ? '2' : '';
  const pad = ' '.repeat(indent);
  const rest = body.split('\n').map((line) => (line === '' ? '' : pad + line));
  if (chomp === '+') rest.pop();
  return { first: `|${indentIndicator}${chomp}`, rest };
}

const DOUBLE_QUOTE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\0', '\\0'],
  ['\x07', '\\a'],
  ['\b', '\\b'],
  ['\t', '\\t'],
  ['\n', '\\n'],
  ['\v', '\\v'],
  ['\f', '\\f'],
  ['\r', '\\r'],
  ['\x1b', '\\e'],
  ['"', '\\"'],
  ['\\', '\\\\'],
  ['\u0085', '\\N'],
  ['\u00a0', '\\_'],
  ['\u2028', '\\L'],
  ['\u2029', '\\P'],
]);

function doubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const escape = DOUBLE_QUOTE_ESCAPES.get(ch);
    if (escape !== undefined) {
      out += escape;
      continue;
    }
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (code === 0xfeff) out += '\\uFEFF';
    else out += ch;
  }
  return out + '"';
}

// ---------------------------------------------------------------------------------------
// JSON

export interface JsonOptions extends EmitOptions {
  /** Spaces per level; 0 prints everything on one line with `, ` and `: ` separators. */
  indent?: number;
}

/** JSON text as KCL's `json.encode` and `--format json` print it (no trailing newline). */
export function emitJson(value: KclValue, options: JsonOptions = {}): string {
  const plainOptions: EmitOptions = { showHidden: options.showHidden ?? true, ...options };
  return writeJson(toPlainTop(value, plainOptions), options.indent ?? 0, 0);
}

/** The program's top-level names as one JSON object. */
export function emitResultJson(
  result: Iterable<readonly [string, KclValue]>,
  options: JsonOptions = {},
): string {
  return writeJson(plainMap(result, options), options.indent ?? 4, 0);
}

function writeJson(v: Plain, indent: number, level: number): string {
  if (v === null) return 'null';
  if (Array.isArray(v) || v instanceof Map) {
    const parts = Array.isArray(v)
      ? v.map((x) => writeJson(x, indent, level + 1))
      : [...v].map(([k, x]) => `${JSON.stringify(k)}: ${writeJson(x, indent, level + 1)}`);
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    if (parts.length === 0) return open + close;
    if (indent <= 0) return open + parts.join(', ') + close;
    const inner = ' '.repeat(indent * (level + 1));
    const outer = ' '.repeat(indent * level);
    return `${open}\n${inner}${parts.join(`,\n${inner}`)}\n${outer}${close}`;
  }
  switch (typeof v) {
    case 'boolean':
      return String(v);
    case 'bigint':
      return v.toString();
    case 'number':
      return Number.isFinite(v) ? formatFloat(v).replace(/e-0(\d)$/, 'e-$1') : 'null';
    case 'string':
      return JSON.stringify(v);
    default:
      return v.text;
  }
}
