/**
 * Finding and parsing KCL sources: the module root (the nearest directory holding
 * `kcl.mod`), package paths (`a.b` is the directory `a/b` with all its `.k` files, or the
 * file `a/b.k`), relative imports (`.x`, `..x`) and system modules.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type * as ast from './ast.ts';
import { checkModule } from './checker/checker.ts';
import { KCL_ERROR_CODES, KclDiagnostic, type DiagnosticEntry } from './diagnostics.ts';
import type { PackageSource, ResolvedImport } from './evaluator/evaluator.ts';
import { isSystemModule } from './modules/index.ts';
import { parseModule } from './parser.ts';

/** The directory holding `kcl.mod` at or above `start`, or undefined. */
export function findModRoot(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'kcl.mod'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Expands `${KCL_MOD}` in a file argument to the module root. */
export function expandModPath(arg: string, modRoot: string): string {
  return arg.replaceAll('${KCL_MOD}', modRoot);
}

/** The `.k` files of a package directory, in name order, skipping `_`-prefixed and test files. */
function packageFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.k') && !f.startsWith('_') && !f.endsWith('_test.k'))
    .sort()
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

export class Loader implements PackageSource {
  readonly modRoot: string;
  private readonly cache = new Map<string, ast.Module>();
  /** Errors the checker found in the files parsed so far; they are reported together. */
  readonly checkErrors: DiagnosticEntry[] = [];
  private readonly overrides: ReadonlyMap<string, string>;

  /** `sources` may supply file texts instead of reading the disk (tests, in-memory runs). */
  constructor(modRoot: string, sources: ReadonlyMap<string, string> = new Map()) {
    this.modRoot = modRoot;
    this.overrides = sources;
  }

  /** The text of a source file. */
  read(file: string): string {
    const given = this.overrides.get(file);
    if (given !== undefined) return given;
    return readFileSync(file, 'utf8');
  }

  parse(file: string): ast.Module {
    let module = this.cache.get(file);
    if (!module) {
      module = parseModule(this.read(file), file);
      this.checkErrors.push(...module.syntaxErrors, ...checkModule(module));
      this.cache.set(file, module);
    }
    return module;
  }

  resolveImport(path: string, fromFile: string, span: ast.Span): ResolvedImport {
    const dots = /^\.*/.exec(path)![0].length;
    const segments = path.slice(dots).split('.');
    if (dots === 0 && segments.length === 1 && isSystemModule(path)) return { kind: 'system', name: path };
    // Plugins are modules of the host program, which this interpreter does not offer.
    if (dots === 0 && segments[0] === 'kcl_plugin') {
      throw new KclDiagnostic({
        code: KCL_ERROR_CODES.EvaluationError,
        kind: 'EvaluationError',
        labels: [
          {
            file: span.file,
            line: span.line,
            column: null,
            message: `the plugin package \`${path}\` is not found, please confirm if plugin mode is enabled`,
          },
        ],
      });
    }
    const target = dots > 0 ? this.relativeTarget(fromFile, dots, segments) : join(this.modRoot, ...segments);
    let files: string[] | undefined;
    // A directory wins over a file of the same name.
    const isDirectory = existsSync(target) && statSync(target).isDirectory();
    if (isDirectory) files = packageFiles(target);
    if ((!files || files.length === 0) && existsSync(`${target}.k`) && statSync(`${target}.k`).isFile()) {
      files = [`${target}.k`];
    }
    if (isDirectory && files?.length === 0) {
      throw new KclDiagnostic({
        code: KCL_ERROR_CODES.CannotFindModule,
        kind: 'CannotFindModule',
        labels: [],
        message: 'No KCL files found in the specified folder',
      });
    }
    if (!files || files.length === 0) {
      throw new KclDiagnostic({
        code: KCL_ERROR_CODES.CannotFindModule,
        kind: 'CannotFindModule',
        labels: [
          {
            file: span.file,
            line: span.line,
            column: span.column,
            message: `Cannot find the module ${path} from ${target}`,
          },
        ],
      });
    }
    const rel = relative(this.modRoot, target);
    const pkgpath = rel.startsWith('..') || rel === '' ? path.slice(dots) : rel.split(sep).join('.');
    return { kind: 'package', pkgpath, files };
  }

  /**
   * `.x` is the importing file's package, each further dot its parent. Inside the module
   * root the official tool counts on the package path, which cannot leave the root: a path
   * that climbs past it names the root package itself, whatever follows the dots.
   */
  private relativeTarget(fromFile: string, dots: number, segments: readonly string[]): string {
    const dir = dirname(fromFile);
    const rel = relative(this.modRoot, dir);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      let base = dir;
      for (let i = 1; i < dots; i++) base = dirname(base);
      return join(base, ...segments);
    }
    const pkg = rel === '' ? [] : rel.split(sep);
    const up = dots - 1;
    if (up > pkg.length) return this.modRoot;
    return join(this.modRoot, ...pkg.slice(0, pkg.length - up), ...segments);
  }
}
