/**
 * The in-process `kcl run`: reads the inputs and settings files, evaluates the main
 * package and prints the result as YAML or JSON, or returns the diagnostic.
 */
import type { Span } from './ast.ts';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { fromPlain, parseOptionArgument } from './builtins/index.ts';
import { OptionValues, type DeclaredOption } from './builtins/option.ts';
import { KCL_ERROR_CODES, KclDiagnostic, readSourceFromDisk } from './diagnostics.ts';
import { emitResultJson, emitResultYaml, emitYaml, emitYamlStream, type EmitOptions } from './emitter.ts';
import { Evaluator } from './evaluator/evaluator.ts';
import { Loader, expandModPath, findModRoot } from './loader.ts';
import { KclRuntimeError, configEntries, isConfig, isList, type KclValue } from './values.ts';

export interface RunKclOptions {
  /** Input files (`.k`) or directories, relative to `cwd`; `${KCL_MOD}` is expanded. */
  files: string[];
  cwd?: string;
  /** `-D key=value` arguments. */
  options?: string[];
  /** `-Y` settings files. */
  settings?: string[];
  /** `-S` path selectors, e.g. `alice.name`. */
  pathSelector?: string[];
  showHidden?: boolean;
  sortKeys?: boolean;
  /** `-n`: omit None values. */
  omitNone?: boolean;
  /** `-d`: accepted as the official tool does; it only changes that tool's logging. */
  debug?: boolean;
  /** `-r`. */
  strictRangeCheck?: boolean;
  format?: 'yaml' | 'json';
  /** File texts to use instead of the disk, by absolute path. */
  sources?: ReadonlyMap<string, string>;
  /** Called often during evaluation; may throw to abort a run (time budgets). */
  tick?: () => void;
}

export type RunKclResult =
  | {
      ok: true;
      stdout: string;
      values: Map<string, KclValue>;
      /** The options the program asked for, in the order of their first evaluated call. */
      options: DeclaredOption[];
    }
  | { ok: false; stdout: string; stderr: string; diagnostic: KclDiagnostic };

/** Settings gathered from `-Y` files. */
interface Settings {
  files: string[];
  options: string[];
  flags: Partial<Pick<RunKclOptions, 'showHidden' | 'sortKeys' | 'omitNone' | 'debug' | 'strictRangeCheck'>>;
  pairs: [string, KclValue][];
}

function plainError(message: string): KclDiagnostic {
  return new KclDiagnostic({
    code: KCL_ERROR_CODES.EvaluationError,
    kind: 'EvaluationError',
    labels: [],
    message,
  });
}

function readSettings(files: readonly string[], cwd: string): Settings {
  const settings: Settings = { files: [], options: [], flags: {}, pairs: [] };
  for (const file of files) {
    const path = resolve(cwd, file);
    let data: unknown;
    try {
      data = parseYaml(readFileSync(path, 'utf8'), { intAsBigInt: true });
    } catch {
      throw plainError(`Failed to load '${file}', invalid setting file format`);
    }
    if (data === null || data === undefined) continue;
    if (typeof data !== 'object') throw plainError(`Failed to load '${file}', invalid setting file format`);
    const record = data as Record<string, unknown>;
    const cli = record.kcl_cli_configs as Record<string, unknown> | undefined;
    if (cli && typeof cli === 'object') {
      const listed = cli.files ?? cli.file;
      if (Array.isArray(listed)) settings.files.push(...listed.map((f) => String(f)));
      const flag = (key: string): boolean | undefined =>
        typeof cli[key] === 'boolean' ? (cli[key] as boolean) : undefined;
      const assignFlag = (name: keyof Settings['flags'], key: string) => {
        const v = flag(key);
        if (v !== undefined) settings.flags[name] = v;
      };
      assignFlag('omitNone', 'disable_none');
      assignFlag('strictRangeCheck', 'strict_range_check');
      assignFlag('sortKeys', 'sort_keys');
      assignFlag('showHidden', 'show_hidden');
    }
    const options = record.kcl_options;
    if (options !== undefined && options !== null) {
      if (!Array.isArray(options)) throw plainError(`Failed to load '${file}', invalid setting file format`);
      for (const item of options) {
        if (!item || typeof item !== 'object' || !('key' in item)) {
          throw plainError(`Failed to load '${file}', invalid setting file format`);
        }
        const { key, value } = item as { key: unknown; value?: unknown };
        settings.pairs.push([String(key), fromPlain(value ?? null)]);
      }
    }
  }
  return settings;
}

/** Input files as absolute paths; a directory stands for its `.k` files. */
function inputFiles(args: readonly string[], cwd: string, modRoot: string): string[] {
  const out: string[] = [];
  for (const arg of args) {
    const path = resolve(cwd, expandModPath(arg, modRoot));
    if (existsSync(path) && statSync(path).isDirectory()) {
      out.push(...readdirK(path));
    } else if (!out.includes(path)) out.push(path);
  }
  return out;
}

function readdirK(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .filter((f) => f.endsWith('.k') && !f.startsWith('_'))
    .map((f) => join(dir, f));
}

/**
 * `-S a.b.c`: the value at that path. A path without a value is reported on the line the
 * run ended at, the program's last statement, as the official tool does.
 */
function selectPath(values: Map<string, KclValue>, selector: string, end: Span | undefined): KclValue {
  const [first, ...rest] = selector.split('.');
  let value: KclValue | undefined = first === undefined ? undefined : values.get(first);
  for (const part of rest) {
    if (value === undefined || !isConfig(value)) {
      value = undefined;
      break;
    }
    value = configEntries(value).get(part);
  }
  if (value === undefined || first === undefined || first === '') {
    const message = `invalid path select operand ${selector}, value not found`;
    if (!end) throw plainError(message);
    throw new KclDiagnostic({
      code: KCL_ERROR_CODES.EvaluationError,
      kind: 'EvaluationError',
      labels: [{ file: end.file, line: end.line, column: null, message }],
    });
  }
  return value;
}

export function runKcl(request: RunKclOptions): RunKclResult {
  const cwd = resolve(request.cwd ?? process.cwd());
  let stdout = '';
  try {
    const settings = readSettings(request.settings ?? [], cwd);
    const firstArg = request.files[0] ?? settings.files[0] ?? '.';
    const firstDir = dirname(resolve(cwd, firstArg.includes('${KCL_MOD}') ? '.' : firstArg));
    const modRoot = findModRoot(firstDir) ?? findModRoot(cwd) ?? firstDir;
    const fileArgs = settings.files.length > 0 ? [...settings.files, ...request.files] : request.files;
    const files = inputFiles(fileArgs, cwd, modRoot);
    const options = new OptionValues(settings.pairs);
    for (const arg of request.options ?? []) {
      try {
        const [key, value] = parseOptionArgument(arg);
        options.set(key, value);
      } catch (error) {
        if (error instanceof KclRuntimeError) throw plainError(error.message);
        throw error;
      }
    }
    const flags = { ...settings.flags, ...definedFlags(request) };
    for (const file of files) {
      if (!request.sources?.has(file) && !existsSync(file))
        throw plainError(`Cannot find the kcl file, please check the file path ${file}`);
    }
    const loader = new Loader(modRoot, request.sources);
    const modules = files.map((f) => loader.parse(f));
    const evaluator = new Evaluator(loader, {
      options,
      write: (text) => {
        stdout += text;
      },
      strictRangeCheck: flags.strictRangeCheck ?? false,
      workdir: cwd,
      modRoot,
      ...(request.tick ? { tick: request.tick } : {}),
    });
    const values = withCheckErrors(loader, evaluator, () => evaluator.evaluateMain(modules));
    const emit: EmitOptions = {
      sortKeys: flags.sortKeys ?? false,
      showHidden: flags.showHidden ?? false,
      omitNone: flags.omitNone ?? false,
    };
    if (evaluator.streamOutput !== null) {
      stdout += evaluator.streamOutput;
    } else if (request.pathSelector && request.pathSelector.length > 0) {
      // A selected list prints as a stream of documents, one per item.
      for (const selector of request.pathSelector) {
        const value = selectPath(values, selector, modules.at(-1)?.body.at(-1)?.span);
        stdout += isList(value) ? emitYamlStream(value.items, emit) : emitYaml(value, emit);
      }
    } else if (evaluator.scalarResult !== null) {
      stdout += emitYaml(evaluator.scalarResult, emit);
    } else if (request.format === 'json') {
      stdout += emitResultJson(values, emit) + '\n';
    } else {
      const text = emitResultYaml(values, emit);
      // An empty result prints as an empty document.
      stdout += text === '{}\n' ? '\n' : text;
    }
    return { ok: true, stdout, values, options: options.declared };
  } catch (error) {
    const found = toDiagnostic(error);
    if (!found) throw error;
    const diagnostic = request.debug ? withBacktrace(found) : found;
    // Source lines come from the texts evaluated, which `sources` may have supplied.
    const stderr = diagnostic.render((file) => request.sources?.get(file) ?? readSourceFromDisk(file));
    return { ok: false, stdout, stderr, diagnostic };
  }
}

/**
 * Runs the evaluation and reports the checker's errors and those the evaluation went on
 * past, if any, together with the first compile-time error the evaluation stops at, as the
 * official compiler lists all it finds.
 */
function withCheckErrors<T>(loader: Loader, evaluator: Evaluator, evaluate: () => T): T {
  const found = () => [...loader.checkErrors, ...evaluator.recoveredErrors];
  let result: T;
  try {
    result = evaluate();
  } catch (error) {
    if (found().length === 0) throw error;
    const more = error instanceof KclDiagnostic && error.kind !== 'EvaluationError' ? error.entries : [];
    throw new KclDiagnostic([...found(), ...more]);
  }
  if (found().length > 0) throw new KclDiagnostic(found());
  return result;
}

/**
 * Debug runs (`-d`) print where a runtime error was raised as a backtrace note. Frames of
 * schemas and lambdas are not tracked, so the trace names the entry frame at the error's line.
 */
function withBacktrace(diagnostic: KclDiagnostic): KclDiagnostic {
  const [first, ...rest] = diagnostic.entries;
  const at = diagnostic.primary;
  if (!first || !at || diagnostic.kind !== 'EvaluationError') return diagnostic;
  const backtrace = `backtrace:\n\t0: kcl_main\n\t\tat ${at.file}:${at.line}`;
  return new KclDiagnostic([{ ...first, notes: [...(first.notes ?? []), backtrace] }, ...rest]);
}

function definedFlags(request: RunKclOptions): Settings['flags'] {
  const out: Settings['flags'] = {};
  if (request.showHidden) out.showHidden = true;
  if (request.sortKeys) out.sortKeys = true;
  if (request.omitNone) out.omitNone = true;
  if (request.strictRangeCheck) out.strictRangeCheck = true;
  return out;
}

/** KCL errors become diagnostics; anything else is an internal error and is rethrown. */
function toDiagnostic(error: unknown): KclDiagnostic | undefined {
  if (error instanceof KclDiagnostic) return error;
  if (error instanceof KclRuntimeError) return plainError(error.message);
  // Unbounded recursion in the program (a lambda calling itself, a name defined by itself).
  if (error instanceof RangeError && /call stack/.test(error.message))
    return plainError('maximum recursion depth exceeded');
  return undefined;
}

/** Flags of `kcl run` taking a value, by spelling. */
const VALUE_FLAGS: Record<string, 'options' | 'settings' | 'pathSelector' | 'output' | 'format'> = {
  '-D': 'options',
  '--argument': 'options',
  '-Y': 'settings',
  '--setting': 'settings',
  '-S': 'pathSelector',
  '--path_selector': 'pathSelector',
  '-o': 'output',
  '--output': 'output',
  '--format': 'format',
};

const BOOLEAN_FLAGS: Record<string, keyof Settings['flags']> = {
  '-n': 'omitNone',
  '--disable_none': 'omitNone',
  '-d': 'debug',
  '--debug': 'debug',
  '-r': 'strictRangeCheck',
  '--strict_range_check': 'strictRangeCheck',
  '--sort_keys': 'sortKeys',
  '--show_hidden': 'showHidden',
};

/**
 * Reads `kcl run` arguments as the official tool takes them (`main.k -D k=v -Y s.yaml`).
 * `-Y` takes every following `.yaml`/`.yml`/`.json` word, as the official CLI does.
 */
export function parseKclRunArgs(argv: readonly string[]): RunKclOptions & { output?: string } {
  const out: RunKclOptions & { output?: string } = { files: [], options: [], settings: [], pathSelector: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const valueFlag = VALUE_FLAGS[flag];
    if (valueFlag) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw plainError(`a value is required for '${flag}'`);
      if (valueFlag === 'output') out.output = value;
      else if (valueFlag === 'format') out.format = value === 'json' ? 'json' : 'yaml';
      else out[valueFlag]!.push(value);
      if (valueFlag === 'settings') {
        while (/\.(ya?ml|json)$/.test(argv[i + 1] ?? '')) out.settings!.push(argv[++i]!);
      }
      continue;
    }
    const booleanFlag = BOOLEAN_FLAGS[arg];
    if (booleanFlag) out[booleanFlag] = true;
    else if (arg.startsWith('-') && arg !== '-') continue;
    else out.files.push(arg);
  }
  return out;
}
