/**
 * The tree-walking evaluator's entry point. A run evaluates the main package; imports load
 * and evaluate other packages once. Top levels and schema bodies are order-independent (see
 * lazy.ts); lambda bodies run top to bottom. Runtime failures from the value model become
 * diagnostics at the statement being evaluated.
 */
import type * as ast from '../ast.ts';
import { resolvePackage } from '../checker/resolver.ts';
import { KCL_ERROR_CODES, KclDiagnostic } from '../diagnostics.ts';
import { createSystemModule, type ModuleContext } from '../modules/index.ts';
import { KclDict, isConfig, isSchema, type KclModule, type KclValue } from '../values.ts';
import { diagnostic, errorAt, immutableError, lineLabel } from './errors.ts';
import { assignedNames, exclusive } from './syntax.ts';
import { Package, orUndefined, type Ctx } from './context.ts';
import { LazyBody, type Branch, type Setter } from './lazy.ts';
import { SchemaDef } from './schema.ts';
import { inferType } from './types.ts';
import { SchemaEvaluator } from './schema-eval.ts';
import type { EvaluatorOptions, PackageSource } from './core.ts';

export type { EvaluatorOptions, PackageSource, ResolvedImport } from './core.ts';

export class Evaluator extends SchemaEvaluator {
  private readonly source: PackageSource;
  /** Packages being evaluated, outermost first: an import of one of them is a cycle. */
  private readonly running: Package[] = [];
  private readonly moduleContext: ModuleContext;
  /** Set by `manifests.yaml_stream`: replaces the normal output. */
  streamOutput: string | null = null;
  /** Set when the program's result is a single non-config value (a bare `1` at top level). */
  scalarResult: KclValue | null = null;

  constructor(source: PackageSource, opts: EvaluatorOptions) {
    super(opts);
    this.source = source;
    const currentFile = () => this.currentFile;
    this.moduleContext = {
      workdir: opts.workdir,
      modRoot: opts.modRoot,
      get currentFile() {
        return currentFile();
      },
      setStreamOutput: (text: string) => {
        this.streamOutput = text;
      },
    };
  }

  /**
   * Evaluates the main package made of `modules`; returns its top-level names in output
   * order, with the entries of top-level config expressions unified in.
   */
  evaluateMain(modules: ast.Module[]): Map<string, KclValue> {
    const pkg = new Package('__main__', modules);
    this.packages.set('__main__', pkg);
    this.evaluatePackage(pkg, null);
    const out = new KclDict();
    for (const name of pkg.order) {
      const v = pkg.globals.get(name);
      if (v !== undefined) out.entries.set(name, v);
    }
    for (const { value, stmt } of pkg.exprValues) {
      if (isConfig(value) && this.scalarResult === null) {
        this.configs.mergeConfigs(out, isSchema(value) ? new KclDict(new Map(value.attrs)) : value);
      } else if (out.entries.size === 0 && this.scalarResult === null) {
        this.scalarResult = value;
      } else {
        throw diagnostic('EvaluationError', [
          lineLabel(stmt.span, `conflicting values between {...} and ${this.str(value)}`),
        ]);
      }
    }
    return out.entries;
  }

  protected evaluatePackage(pkg: Package, importedAt: ast.ImportStmt | null): void {
    if (pkg.state === 'done') return;
    if (pkg.state === 'running') throw this.importCycle(pkg, importedAt);
    // Names are checked statically in the main package only: library packages such as the
    // Konfig base (written for KCL 0.4) hold code that never runs and names only what it uses.
    if (pkg.pkgpath === '__main__') {
      const undefinedNames = resolvePackage(pkg.modules, new Set(this.builtins.keys()));
      if (undefinedNames.length > 0) throw new KclDiagnostic(undefinedNames);
    }
    pkg.state = 'running';
    pkg.importedAt = importedAt;
    this.running.push(pkg);
    pkg.module = { kind: 'module', name: pkg.pkgpath, members: pkg.globals };
    pkg.lazy = new LazyBody<Ctx>(
      (setter) => this.runTopSetter(pkg, setter),
      (stmt, ctx) => this.condition(stmt, ctx),
      (name) => this.finishUnification(pkg.pending, pkg.globals, name, null),
    );
    const contexts = pkg.modules.map((module) => {
      const ctx: Ctx = { pkg, file: module.file, locals: null, frame: null };
      pkg.imports.set(module.file, new Map());
      this.registerTop(module.body, ctx, []);
      return ctx;
    });
    this.checkImmutability(pkg);
    pkg.modules.forEach((module, i) => {
      const ctx = contexts[i]!;
      for (const stmt of module.body) if (stmt.kind === 'ImportStmt') this.importModule(stmt, ctx);
    });
    pkg.modules.forEach((module, i) => this.runBody(module.body, contexts[i]!, pkg.lazy));
    for (const name of pkg.lazy.setters.keys()) pkg.lazy.ensure(name);
    pkg.state = 'done';
    this.running.pop();
  }

  /**
   * An import reaching a package still being evaluated. Reported at the import that entered
   * the cycle's last package and at the import that closes it, naming the packages in between.
   */
  protected importCycle(target: Package, closing: ast.ImportStmt | null): KclDiagnostic {
    const members = this.running.slice(this.running.indexOf(target));
    const names = members.map((p) => (p.pkgpath === '__main__' ? 'main' : p.pkgpath)).join(', ');
    const message = `There is a circular reference between modules ${names}`;
    const sites = [members[members.length - 1]?.importedAt, closing].filter(
      (s) => s !== null && s !== undefined,
    );
    return new KclDiagnostic(sites.flatMap((site) => errorAt('CompileError', site.span, message).entries));
  }

  protected registerTop(stmts: ast.Stmt[], ctx: Ctx, branches: Branch[]): void {
    const pkg = ctx.pkg;
    for (const stmt of stmts) {
      switch (stmt.kind) {
        case 'SchemaStmt':
        case 'RuleStmt':
          pkg.globals.set(stmt.name, new SchemaDef<Ctx>(stmt, pkg.pkgpath, ctx, this));
          break;
        case 'TypeAliasStmt':
          pkg.aliases.set(stmt.name, { type: stmt.type, ctx });
          break;
        case 'ImportStmt': {
          let stmts = pkg.importStmts.get(ctx.file);
          if (!stmts) pkg.importStmts.set(ctx.file, (stmts = new Map()));
          stmts.set(stmt.name, stmt);
          break;
        }
        case 'IfStmt':
          this.registerTop(stmt.body, ctx, [...branches, { stmt, taken: true }]);
          this.registerTop(stmt.orelse, ctx, [...branches, { stmt, taken: false }]);
          break;
        default:
          for (const name of assignedNames(stmt)) {
            if (!pkg.lazy.has(name)) pkg.order.push(name);
            pkg.lazy.add({ name, stmt, branches, ctx });
          }
      }
    }
  }

  /** Exported top-level names may be set once (unification statements merge instead). */
  protected checkImmutability(pkg: Package): void {
    for (const [name, setters] of pkg.lazy.setters) {
      for (const setter of setters) {
        const imported = pkg.importStmts.get(setter.ctx.file)?.get(name);
        if (imported) throw immutableError(name, setter.stmt!, imported, false);
      }
      if (name.startsWith('_') || setters.length < 2) continue;
      const first = setters[0]!;
      for (const setter of setters.slice(1)) {
        const stmt = setter.stmt!;
        if (stmt.kind === 'UnificationStmt' && setters.every((s) => s.stmt!.kind === 'UnificationStmt'))
          continue;
        if (setters.slice(0, setters.indexOf(setter)).every((s) => exclusive(s.branches, setter.branches)))
          continue;
        // In `b = a = 2` the error points at the target that names the variable.
        const target = stmt.kind === 'AssignStmt' ? stmt.targets.find((t) => t.name === name) : undefined;
        const error = immutableError(name, target ?? stmt, first.stmt!, stmt.kind === 'AugAssignStmt');
        // Reported with what the evaluation finds next, as the checker lists both.
        this.recoveredErrors.push(...error.entries);
        break;
      }
    }
  }

  protected importModule(stmt: ast.ImportStmt, ctx: Ctx): void {
    const resolved = this.source.resolveImport(stmt.path, ctx.file, stmt.span);
    if (resolved.kind === 'package' && resolved.files.includes(ctx.file)) {
      // A file importing its own package: the official tool's RecursiveLoad report.
      throw new KclDiagnostic({
        code: KCL_ERROR_CODES.EvaluationError,
        kind: `error[${KCL_ERROR_CODES.RecursiveLoad}]: RecursiveLoad`,
        labels: [],
        message: `Could not compiles due to cyclic import statements\n- ${ctx.file}`,
      });
    }
    let module: KclModule;
    if (resolved.kind === 'system') {
      const created = createSystemModule(resolved.name, this.moduleContext);
      if (!created) throw errorAt('CannotFindModule', stmt.span, `Cannot find the module ${stmt.path}`);
      module = created;
    } else {
      let pkg = this.packages.get(resolved.pkgpath);
      if (!pkg) {
        pkg = new Package(
          resolved.pkgpath,
          resolved.files.map((f) => this.source.parse(f)),
        );
        this.packages.set(resolved.pkgpath, pkg);
      }
      const saved = this.currentFile;
      this.evaluatePackage(pkg, stmt);
      this.currentFile = saved;
      module = pkg.module;
    }
    ctx.pkg.imports.get(ctx.file)!.set(stmt.name, module);
  }

  protected runTopSetter(pkg: Package, setter: Setter<Ctx>): void {
    const stmt = setter.stmt!;
    const { name } = setter;
    this.guard(stmt, setter.ctx, () => {
      this.assign(name, stmt, setter.ctx, pkg.globals, pkg.types, pkg.pending);
      this.validateNested(orUndefined(pkg.globals.get(name)));
    });
    // A name assigned again keeps the type of its first value, as the type checker infers it.
    const value = pkg.globals.get(name);
    if (
      !pkg.types.has(name) &&
      value !== undefined &&
      stmt.kind === 'AssignStmt' &&
      (pkg.lazy.setters.get(name)?.length ?? 0) > 1
    ) {
      const inferred = inferType(value);
      if (inferred) pkg.types.set(name, inferred);
    }
  }
}
