/**
 * The evaluator's core: statements, names, types, expressions and lambdas. Schema
 * instantiation (schema-eval.ts) and packages and imports (evaluator.ts) build on it.
 */
import type * as ast from '../ast.ts';
import { KclDiagnostic, type DiagnosticEntry } from '../diagnostics.ts';
import {
  MissingArgumentError,
  applyFormatSpec,
  createBuiltins,
  iterate,
  stringMethod,
} from '../builtins/index.ts';
import { emitJson, emitYaml } from '../emitter.ts';
import {
  KclDict,
  KclList,
  KclRuntimeError,
  KclSchema,
  KclUnit,
  UNDEFINED,
  binaryOp,
  checkFloatRange,
  checkIntRange,
  configEntries,
  deepCopy,
  isConfig,
  isList,
  isNoneOrUndefined,
  isSchema,
  makeFunction,
  typeName,
  truthy,
  unaryOp,
  type BinaryOperator,
  type KclFunction,
  type KclValue,
} from '../values.ts';
import { diagnostic, didYouMean, errorAt, labelAt, lineLabel, runtimeDiagnostic } from './errors.ts';
import {
  annotationText,
  assignedNames,
  bodyAssigns,
  isLiteralExpr,
  nameConstant,
  parseIntLiteral,
  qualifiedAsExpr,
  staticTypeText,
} from './syntax.ts';
import { Configs } from './configs.ts';
import {
  Package,
  SchemaFrame,
  Scope,
  orUndefined,
  type Ctx,
  type Def,
  type PendingUnification,
} from './context.ts';
import { LazyBody } from './lazy.ts';
import { SchemaDef, originOf, type AttrInfo, type ResolvedSchema } from './schema.ts';
import {
  ANY,
  MISMATCH,
  checkerTypeText,
  convert,
  plainTypeText,
  typeText,
  valueTypeText,
  type KType,
} from './types.ts';

/** Where imports come from; implemented by the loader. */
export interface PackageSource {
  resolveImport(path: string, fromFile: string, span: ast.Span): ResolvedImport;
  parse(file: string): ast.Module;
}

export type ResolvedImport =
  { kind: 'system'; name: string } | { kind: 'package'; pkgpath: string; files: string[] };

export interface EvaluatorOptions {
  /** `-D` and settings-file options. */
  options: ReadonlyMap<string, KclValue>;
  /** Receives `print` output. */
  write(text: string): void;
  /** `-r`: ints must fit 32 bits and floats f32. */
  strictRangeCheck: boolean;
  workdir: string;
  modRoot: string;
  /** Called with a step count; may throw to stop a run that takes too long. */
  tick?: () => void;
}

/** A function or schema argument of the wrong type; the call site reports it at the argument. */
/** One argument whose value does not fit its parameter's type. */
export interface ArgumentMismatch {
  /** Positional index or keyword name. */
  argument: number | string;
  param: ast.Parameter;
  expected: KType;
  value: KclValue;
}

/** Arguments that do not fit their parameters, all of them, as the checker lists them. */
export class ArgumentTypeError extends KclRuntimeError {
  readonly callee: KclValue;
  readonly mismatches: readonly ArgumentMismatch[];

  constructor(callee: KclValue, mismatches: readonly ArgumentMismatch[]) {
    const first = mismatches[0]!;
    super(`expect ${typeText(first.expected)}, got ${typeName(first.value)}`);
    this.callee = callee;
    this.mismatches = mismatches;
  }
}

export const AUG_BINARY: Record<ast.AugOp, BinaryOperator> = {
  '+=': '+',
  '-=': '-',
  '*=': '*',
  '/=': '/',
  '//=': '//',
  '%=': '%',
  '**=': '**',
  '<<=': '<<',
  '>>=': '>>',
  '&=': '&',
  '|=': '|',
  '^=': '^',
};

export const ORDERING: ReadonlySet<string> = new Set(['<', '<=', '>', '>=']);

export const ARITHMETIC: ReadonlySet<string> = new Set(['+', '-', '*', '/', '//', '%', '**']);

export abstract class EvaluatorCore {
  protected readonly opts: EvaluatorOptions;
  protected readonly builtins: ReadonlyMap<string, KclFunction>;
  protected readonly packages = new Map<string, Package>();
  protected readonly configs: Configs = new Configs(this);
  /** Validations of instances built inside configs, run once the enclosing value is complete. */
  protected readonly pendingValidation = new WeakMap<KclSchema, () => void>();
  /** Set while an attribute's value is built that a later statement may still replace. */
  protected validationDeferred = false;
  protected currentFile = '';
  /** The statement being evaluated: runtime errors point at it. */
  protected currentStmt: ast.Node | null = null;
  /** Compile errors the evaluation reported and went on past, as the checker lists them all. */
  readonly recoveredErrors: DiagnosticEntry[] = [];
  /**
   * The last line evaluated in the current statement (the statement itself or a config
   * entry in it): like the official runtime, runtime errors are reported there.
   */
  protected lastLine: ast.Span | null = null;
  /** The package whose code is running: instances remember where they were made. */
  protected currentPkg = '__main__';

  constructor(opts: EvaluatorOptions) {
    this.opts = opts;
    this.builtins = createBuiltins({ options: opts.options, write: opts.write });
  }

  protected abstract evalSchemaExpr(expr: ast.SchemaExpr, ctx: Ctx): KclValue;
  abstract instantiate(
    def: Def,
    positional: readonly KclValue[],
    keywords: ReadonlyMap<string, KclValue>,
    config: KclDict,
  ): KclSchema;
  abstract mergeIntoSchema(instance: KclSchema, incoming: KclDict | KclSchema): KclValue;
  protected abstract resolveSchema(def: Def): ResolvedSchema<Ctx>;
  protected abstract schemaByName(name: ast.QualifiedName, ctx: Ctx): Def;
  protected abstract checkConfigKeys(expr: ast.Expr, type: KType, ctx: Ctx): void;

  /** The top-to-bottom pass over an order-independent body. */
  protected runBody(stmts: ast.Stmt[], ctx: Ctx, lazy: LazyBody<Ctx>): void {
    for (const stmt of stmts) {
      this.tick();
      switch (stmt.kind) {
        case 'IfStmt':
          this.guard(stmt, ctx, () => {
            const taken = lazy.condition(stmt, ctx);
            this.runBody(taken ? stmt.body : stmt.orelse, ctx, lazy);
          });
          break;
        case 'ExprStmt': {
          const value = this.guard(stmt, ctx, () => this.evalExpr(stmt.expr, ctx));
          const topLevel = ctx.frame === null && ctx.locals === null;
          if (topLevel && !isNoneOrUndefined(value) && stmt.expr.kind !== 'StringLit')
            ctx.pkg.exprValues.push({ value, stmt });
          break;
        }
        case 'AssertStmt':
          this.guard(stmt, ctx, () => this.execAssert(stmt, ctx));
          break;
        case 'ImportStmt':
        case 'SchemaStmt':
        case 'RuleStmt':
        case 'TypeAliasStmt':
          break;
        default:
          lazy.runStmt(stmt);
      }
    }
  }

  /** Runs `fn` with `stmt` as the position for runtime errors. */
  protected guard<T>(stmt: ast.Node, ctx: Ctx, fn: () => T): T {
    const savedStmt = this.currentStmt;
    const savedFile = this.currentFile;
    const savedPkg = this.currentPkg;
    const savedLine = this.lastLine;
    this.currentStmt = stmt;
    this.currentFile = ctx.file;
    this.currentPkg = ctx.pkg.pkgpath;
    this.lastLine = stmt.span;
    try {
      return fn();
    } catch (error) {
      if (error instanceof KclRuntimeError)
        throw runtimeDiagnostic(error.errorKind, this.lastLine ?? stmt.span, error.message);
      throw error;
    } finally {
      this.lastLine = savedLine;
      this.currentStmt = savedStmt;
      this.currentFile = savedFile;
      this.currentPkg = savedPkg;
    }
  }

  protected condition(stmt: ast.IfStmt, ctx: Ctx): boolean {
    return this.guard(stmt, ctx, () => truthy(this.evalExpr(stmt.cond, ctx)));
  }

  protected execAssert(stmt: ast.AssertStmt, ctx: Ctx): void {
    if (stmt.ifCond && !truthy(this.evalExpr(stmt.ifCond, ctx))) return;
    if (truthy(this.evalExpr(stmt.test, ctx))) return;
    const msg = stmt.msg ? this.str(this.evalExpr(stmt.msg, ctx)) : '';
    throw diagnostic('EvaluationError', [lineLabel(stmt.span, msg)]);
  }

  /**
   * Runs one assigning statement for `name`, storing into `values`. `types` holds declared
   * types (typed top-level assignments, schema attributes).
   */
  protected assign(
    name: string,
    stmt: ast.Stmt,
    ctx: Ctx,
    values: Map<string, KclValue>,
    types: ReadonlyMap<string, KType> | Map<string, KType>,
    pending: Map<string, PendingUnification>,
  ): void {
    switch (stmt.kind) {
      case 'AssignStmt': {
        const target = stmt.targets.find((t) => t.name === name)!;
        let value = this.evalExpr(stmt.value, ctx);
        if (target.path.length > 0) {
          this.pathHolder(values, target, ctx).set(value);
          return;
        }
        if (stmt.type) {
          const type = this.resolveType(stmt.type, ctx);
          if (types instanceof Map && !types.has(name)) types.set(name, type);
          value = this.convertTo(value, type, target.span, stmt.value);
        }
        const declared = types.get(name);
        if (declared) value = this.convertTo(value, declared, target.span, stmt.value);
        values.set(name, value);
        return;
      }
      case 'AugAssignStmt': {
        const value = this.evalExpr(stmt.value, ctx);
        if (stmt.target.path.length > 0) {
          const holder = this.pathHolder(values, stmt.target, ctx);
          const current = holder.get();
          holder.set(this.binary(AUG_BINARY[stmt.op], current, value));
          return;
        }
        const current = values.get(name);
        if (current === undefined)
          throw errorAt('CompileError', stmt.target.span, `name '${name}' is not defined`);
        let result = this.binary(AUG_BINARY[stmt.op], current, value);
        const declared = types.get(name);
        if (declared) result = this.convertTo(result, declared, stmt.value.span, stmt.value);
        values.set(name, result);
        return;
      }
      case 'UnificationStmt': {
        const expr = stmt.value;
        const def = this.schemaByName(expr.name, ctx);
        const config = this.configs.evalConfig(expr.config, ctx, true);
        const existing = pending.get(name);
        if (existing) {
          this.configs.mergeConfigs(existing.config, config);
          Object.assign(existing, { stmt, ctx, line: this.lastLine ?? stmt.span });
          // The last statement's schema arguments win.
          if (expr.args.length > 0 || expr.keywords.length > 0) {
            existing.positional = expr.args.map((a) => this.evalExpr(a, ctx));
            existing.keywords = this.evalKeywords(expr.keywords, ctx);
          }
          return;
        }
        const current = values.get(name);
        const origin = current !== undefined && isSchema(current) ? originOf<Ctx>(current) : undefined;
        const base = origin ? (deepCopy(origin.config) as KclDict) : new KclDict();
        pending.set(name, {
          def,
          positional: expr.args.map((a) => this.evalExpr(a, ctx)),
          keywords: this.evalKeywords(expr.keywords, ctx),
          config: this.configs.mergeConfigs(base, config),
          stmt,
          ctx,
          line: this.lastLine ?? stmt.span,
        });
        return;
      }
      case 'SchemaAttr': {
        if (!stmt.value) {
          // `attr: "literal"` without a value defaults to its literal type's value.
          if (stmt.type.kind === 'LiteralType') values.set(name, this.evalExpr(stmt.type.literal, ctx));
          return;
        }
        let value = this.evalExpr(stmt.value, ctx);
        if (stmt.op !== null && stmt.op !== '=') {
          const current = values.get(name);
          value = current === undefined ? value : this.binary(AUG_BINARY[stmt.op], current, value);
        }
        const declared = types.get(name);
        if (declared) value = this.convertTo(value, declared, stmt.span, stmt.value);
        values.set(name, value);
        return;
      }
      default:
        return;
    }
  }

  protected finishUnification(
    pending: Map<string, PendingUnification>,
    values: Map<string, KclValue>,
    name: string,
    frame: SchemaFrame | null,
  ): void {
    const p = pending.get(name);
    if (!p) return;
    pending.delete(name);
    // The instance is built after all its statements ran: errors show where the last one ended.
    let value: KclValue = this.guard(p.stmt, p.ctx, () => {
      this.reachLine(p.line);
      return this.instantiate(p.def, p.positional, p.keywords, p.config);
    });
    const declared = frame?.info.attrs.get(name)?.type;
    if (declared) value = this.convertTo(value, declared, this.currentStmt?.span ?? null, null);
    values.set(name, value);
  }

  /** `a.b[0].c`: the container the last step is in, with a getter and setter for that step. */
  protected pathHolder(
    values: Map<string, KclValue>,
    target: ast.Target,
    ctx: Ctx,
  ): { get(): KclValue; set(v: KclValue): void } {
    // Values are shared by reference; changing one through a path must not change the others.
    let container = values.get(target.name);
    if (container !== undefined) {
      container = deepCopy(container);
      values.set(target.name, container);
    }
    const first = target.path[0];
    if (
      container === undefined &&
      ctx.frame &&
      !ctx.frame.info.attrs.has(target.name) &&
      first?.kind === 'member'
    ) {
      // In a schema only a declared attribute starts empty; any other name holds nothing to update.
      throw new KclRuntimeError(
        `failed to update the dict. An iterable of key-value pairs was expected, but got UndefinedType. Check if the syntax for updating the dictionary with the attribute '${first.name}' is correct`,
      );
    }
    if (container === undefined || isNoneOrUndefined(container)) {
      // `a.b = v` on a name without a value starts a config, as schema bodies rely on.
      container = new KclDict();
      values.set(target.name, container);
    }
    const steps = target.path;
    for (let i = 0; i < steps.length - 1; i++) {
      const key = this.stepKey(steps[i]!, ctx);
      let next = this.getItem(container, key);
      if (isNoneOrUndefined(next) && isConfig(container) && typeof key === 'string') {
        next = new KclDict();
        configEntries(container).set(key, next);
      }
      container = next;
    }
    const last = this.stepKey(steps[steps.length - 1]!, ctx);
    const holder = container;
    return {
      get: () => this.getItem(holder, last),
      set: (v) => {
        if (isSchema(holder) && typeof last === 'string') {
          // Rebuilding the instance (unification) must keep the assignment.
          const origin = originOf<Ctx>(holder);
          origin?.config.entries.set(last, v);
          origin?.config.meta?.set(last, { operation: 'override' });
        }
        if (isConfig(holder) && typeof last === 'string') configEntries(holder).set(last, v);
        else if (isList(holder) && typeof last === 'bigint') {
          const i = Number(last < 0n ? BigInt(holder.items.length) + last : last);
          if (i < 0 || i >= holder.items.length)
            throw new KclRuntimeError(
              `index out of bounds: the len is ${holder.items.length} but the index is ${last}`,
            );
          holder.items[i] = v;
        } else
          throw new KclRuntimeError(
            `'${typeName(holder)}' object does not support item assignment`,
            'TypeError',
          );
      },
    };
  }

  protected stepKey(step: ast.TargetStep, ctx: Ctx): KclValue {
    return step.kind === 'member' ? step.name : this.evalExpr(step.index, ctx);
  }

  protected getItem(container: KclValue, key: KclValue): KclValue {
    if (isConfig(container) && typeof key === 'string') return orUndefined(configEntries(container).get(key));
    if (isList(container) && typeof key === 'bigint') {
      const i = Number(key < 0n ? BigInt(container.items.length) + key : key);
      return orUndefined(container.items[i]);
    }
    throw new KclRuntimeError(`'${typeName(container)}' object is not subscriptable`, 'TypeError');
  }

  protected resolveType(node: ast.TypeExpr, ctx: Ctx): KType {
    switch (node.kind) {
      case 'AnyType':
        return ANY;
      case 'BasicType':
        return { kind: node.name };
      case 'ListType':
        return { kind: 'list', elem: node.elem ? this.resolveType(node.elem, ctx) : ANY };
      case 'DictType':
        return {
          kind: 'dict',
          key: node.key ? this.resolveType(node.key, ctx) : ANY,
          value: node.value ? this.resolveType(node.value, ctx) : ANY,
        };
      case 'UnionType':
        return { kind: 'union', types: node.types.map((t) => this.resolveType(t, ctx)) };
      case 'FunctionType':
        return { kind: 'function' };
      case 'LiteralType': {
        const lit = node.literal;
        if (lit.kind === 'NameConstant') {
          if (lit.value === 'None' || lit.value === 'Undefined') return { kind: 'none' };
          return { kind: 'literal', value: lit.value === 'True', text: lit.value };
        }
        if (lit.kind === 'StringLit')
          return { kind: 'literal', value: lit.value, text: JSON.stringify(lit.value) };
        const value = this.evalNumber(lit);
        return { kind: 'literal', value, text: lit.raw + (lit.suffix ?? '') };
      }
      case 'NamedType': {
        const [first, ...rest] = node.names;
        if (rest.length === 0 && first !== undefined) {
          const alias = ctx.pkg.aliases.get(first);
          if (alias) return this.resolveType(alias.type, alias.ctx);
        }
        // The units module's one type, which no module value carries.
        if (rest.length === 1 && rest[0] === 'NumberMultiplier') {
          const module = this.lookup(first!, ctx, node.span);
          if (typeof module === 'object' && module?.kind === 'module' && module.name === 'units')
            return { kind: 'unit' };
        }
        const value = this.resolveQualified(node.names, ctx, node.span);
        if (value instanceof SchemaDef) return { kind: 'schema', schema: value };
        throw errorAt('TypeError', node.span, `'${node.names.join('.')}' is not a type`);
      }
    }
  }

  /** `type B = A` where A is a schema: `B` also names the schema as a value (`B {...}`). */
  protected aliasedSchema(pkg: Package, name: string): Def | undefined {
    const alias = pkg.aliases.get(name);
    if (!alias) return undefined;
    const type = this.resolveType(alias.type, alias.ctx);
    return type.kind === 'schema' && type.schema instanceof SchemaDef ? (type.schema as Def) : undefined;
  }

  /** Checks and converts a value for a typed name; a mismatch is a TypeError at `span`. */
  /** `attr`: the schema attribute being set, whose declaration is shown as a second label. */
  protected convertTo(
    value: KclValue,
    type: KType,
    span: ast.Span | null,
    expr: ast.Expr | null,
    attr?: AttrInfo,
  ): KclValue {
    // A call's result (`json.decode(...)`) has no static type: its dict is checked at runtime.
    if (expr?.kind === 'CallExpr') this.checkDictFitsSchema(value, type);
    if (expr?.kind === 'BinaryExpr' && expr.op === '|' && expr.right.kind === 'ConfigExpr')
      this.checkUnionEntries(expr.right, value, type);
    const converted = convert(value, type);
    if (converted !== MISMATCH) return converted;
    if (isSchema(value) && expr?.kind !== 'SchemaExpr') {
      // At runtime an instance is a dict too: one of another schema is rebuilt as this type,
      // as the official runtime does. Only a schema expression's type is known statically.
      const rebuilt = convert(new KclDict(new Map(value.attrs)), type);
      if (rebuilt !== MISMATCH) return rebuilt;
    }
    // What the checker lets pass is rejected by the runtime check: an int standing for a float
    // literal type, or a name declared `any`.
    const intForFloat = typeof value === 'bigint' && expr && isLiteralExpr(expr) && admitsFloatLiteral(type);
    const declaredAny =
      expr?.kind === 'Identifier' && this.packages.get(this.currentPkg)?.types.get(expr.name)?.kind === 'any';
    if (attr && (intForFloat || declaredAny)) {
      const message = `expect ${annotationText(attr.annotation)}, got ${typeName(value)}`;
      throw diagnostic('EvaluationError', [lineLabel(attr.span, message)]);
    }
    const declared = attr?.span;
    const got = expr ? staticTypeText(expr, value) : plainTypeText(value);
    const expected = checkerTypeText(type);
    const message = `expected ${expected}, got ${got}`;
    const at = span ?? this.currentStmt?.span;
    if (!at) throw new KclRuntimeError(message, 'TypeError');
    const labels = [labelAt(at, message)];
    if (declared)
      labels.push(labelAt(declared, `variable is defined here, its type is ${expected}, but got ${got}`));
    const whole = diagnostic('TypeError', labels);
    // In a dict written literally the checker first reports the entries whose values do not
    // fit, innermost first.
    // Entries point back at the attribute, or at the variable when it is not one.
    const owner = declared ?? at;
    const entries = mismatchedEntries(expr, value, type).map((mismatch) => {
      const text = checkerTypeText(mismatch.type);
      const inner = [
        labelAt(mismatch.at, `expected ${text}, got ${mismatch.got}`),
        labelAt(owner, `variable is defined here, its type is ${text}, but got ${mismatch.got}`),
      ];
      if (mismatch.entry) inner.push(labelAt(mismatch.entry, 'config attribute is defined here'));
      return diagnostic('TypeError', inner).entries;
    });
    throw new KclDiagnostic([...entries.flat(), ...whole.entries]);
  }

  /**
   * `x | {k = v}` given a schema type: the checker holds each literal entry of the right-hand
   * config to the attribute's type and reports a mismatch at the entry.
   */
  protected checkUnionEntries(config: ast.ConfigExpr, value: KclValue, type: KType): void {
    if (type.kind !== 'schema' || !(type.schema instanceof SchemaDef) || !isConfig(value)) return;
    const attrs = this.resolveSchema(type.schema as Def).attrs;
    const entries = configEntries(value);
    for (const item of config.items) {
      if (item.kind !== 'ConfigEntry' || item.key?.kind !== 'QualifiedName' || item.key.names.length !== 1)
        continue;
      const attr = attrs.get(item.key.names[0]!);
      const v = attr && entries.get(attr.name);
      if (!attr || v === undefined || !isLiteralExpr(item.value) || convert(v, attr.type) !== MISMATCH)
        continue;
      throw errorAt(
        'TypeError',
        item.key.span,
        `expected ${checkerTypeText(attr.type)}, got ${valueTypeText(v)}`,
      );
    }
  }

  /**
   * A dict given where a schema is expected must fit it: no unknown keys, and every required
   * attribute without a default supplied. Otherwise the runtime lists each problem. With
   * unknown keys it stops before building the instance, at the current line; otherwise it
   * builds the instance first, so the line reached is the schema's last statement. In a list
   * only the list is named.
   */
  /**
   * An argument converted to its parameter's declared type. A mismatch is collected rather
   * than thrown, so that one error names every bad argument of the call.
   */
  protected convertArgument(
    param: ArgumentMismatch['param'],
    value: KclValue,
    argument: ArgumentMismatch['argument'],
    ctx: Ctx,
    mismatches: ArgumentMismatch[],
  ): KclValue {
    if (!param.type) return value;
    const expected = this.resolveType(param.type, ctx);
    this.checkDictFitsSchema(value, expected);
    const converted = convert(value, expected);
    if (converted !== MISMATCH) return converted;
    mismatches.push({ argument, param, expected, value });
    return value;
  }

  protected checkDictFitsSchema(value: KclValue, type: KType): void {
    if (type.kind === 'list' && isList(value)) {
      if (value.items.some((item) => this.schemaMisfit(item, type.elem)))
        throw new KclRuntimeError(`expect ${typeText(type)}, got list`);
      return;
    }
    const misfit = this.schemaMisfit(value, type);
    if (!misfit) return;
    const { def, unknown, missing } = misfit;
    const details = [
      ...unknown.map((k) => `Schema ${def.name} does not contain attribute ${k}`),
      ...missing.map((name) => `Schema ${def.name}'s attribute ${name} is missing`),
    ];
    const message = `expect ${def.name}, got dict. For details:\n${details.join('\n')}`;
    const last = def.node.kind === 'SchemaStmt' ? def.node.body.at(-1) : undefined;
    if (unknown.length > 0 || !last) throw new KclRuntimeError(message);
    throw diagnostic('EvaluationError', [lineLabel(last.span, message)]);
  }

  /** How a dict does not fit a schema type, or null when it does or is not a dict. */
  private schemaMisfit(
    value: KclValue,
    type: KType,
  ): { def: Def; unknown: string[]; missing: string[] } | null {
    if (type.kind !== 'schema' || !(type.schema instanceof SchemaDef) || !isDictValue(value)) return null;
    const def = type.schema as Def;
    const info = this.resolveSchema(def);
    if (info.indexSignature) return null;
    const unknown = [...value.entries.keys()].filter((k) => !info.attrs.has(k));
    const missing = [...info.attrs.values()]
      .filter((a) => !a.optional && !bodyAssigns(info, a.name))
      .filter((a) => isNoneOrUndefined(orUndefined(value.entries.get(a.name))))
      .map((a) => a.name);
    return unknown.length > 0 || missing.length > 0 ? { def, unknown, missing } : null;
  }

  /** Function arguments and `as` are checked at runtime, with the runtime's message. */
  protected convertRuntime(value: KclValue, type: KType): KclValue {
    let converted: KclValue | typeof MISMATCH;
    try {
      converted = convert(value, type);
    } catch (error) {
      // Building the schema from a config failed: say which attributes do not fit.
      if (type.kind !== 'schema' || !isConfig(value) || !(error instanceof KclDiagnostic)) throw error;
      converted = MISMATCH;
    }
    if (converted !== MISMATCH) return converted;
    const got = isSchema(value) ? value.fullName : typeName(value);
    let message = `expect ${typeText(type)}, got ${got}`;
    if (type.kind === 'schema' && type.schema instanceof SchemaDef && isConfig(value)) {
      const attrs = this.resolveSchema(type.schema as Def).attrs;
      const keys = configEntries(value);
      const details = [
        ...[...keys.keys()]
          .filter((k) => !attrs.has(k))
          .map((k) => `Schema ${type.schema.name} does not contain attribute ${k}`),
        ...[...attrs.values()]
          .filter((a) => !a.optional && isNoneOrUndefined(orUndefined(keys.get(a.name))))
          .map((a) => `Schema ${type.schema.name}'s attribute ${a.name} is missing`),
      ];
      if (details.length > 0) message += `. For details:\n${details.join('\n')}`;
    }
    throw new KclRuntimeError(message);
  }

  protected resolveQualified(names: readonly string[], ctx: Ctx, span: ast.Span): KclValue {
    let value = this.lookup(names[0]!, ctx, span);
    for (const member of names.slice(1)) value = this.selectAttr(value, member, false, span);
    return value;
  }

  protected lookup(name: string, ctx: Ctx, span: ast.Span): KclValue {
    const frame = ctx.frame;
    const isAttribute = frame !== null && (frame.lazy.has(name) || frame.info.attrs.has(name));
    for (let scope = ctx.locals; scope; scope = scope.parent) {
      const v = scope.vars.get(name);
      if (v === undefined) continue;
      if (scope.configKeys && isAttribute) break;
      // A key written earlier in an enclosing config does not hide the file's import of the
      // same name: KCL v0.4.6 read `metadata.__META_APP_NAME` inside Konfig's `Application {
      // metadata = ...; spec = {...} }` as the imported module, and the grammar suite agrees.
      if (scope.configKeys && ctx.pkg.imports.get(ctx.file)?.has(name)) continue;
      return v;
    }
    if (frame && isAttribute) {
      frame.lazy.ensure(name);
      return orUndefined(frame.values.get(name));
    }
    const pkg = ctx.pkg;
    if (pkg.lazy.has(name)) pkg.lazy.ensure(name);
    const global = pkg.globals.get(name);
    if (global !== undefined) return global;
    // A file sees its own imports first, then those of the package's other files.
    const imported = pkg.imports.get(ctx.file)?.get(name);
    if (imported !== undefined) return imported;
    for (const fileImports of pkg.imports.values()) {
      const other = fileImports.get(name);
      if (other !== undefined) return other;
    }
    const aliased = this.aliasedSchema(pkg, name);
    if (aliased) return aliased;
    const builtin = this.builtins.get(name);
    if (builtin !== undefined) return builtin;
    if (pkg.lazy.has(name)) return UNDEFINED;
    // KCL 0.4 looked a schema body's unresolved names up as attributes at runtime, so they
    // read as Undefined: Konfig's base writes `revoke_rules_on_delete?: bool = false` and its
    // stacks omit the attribute. Today's resolver rejects such a name, but it only checks
    // the main package here (see evaluatePackage), so the old reading is kept for imported
    // schemas and the main package keeps today's error.
    if (frame && pkg.pkgpath !== '__main__') return UNDEFINED;
    const known = [...pkg.globals.keys(), ...(pkg.imports.get(ctx.file)?.keys() ?? [])];
    throw errorAt('CompileError', span, `name '${name}' is not defined${didYouMean(name, known)}`);
  }

  protected tick(): void {
    this.opts.tick?.();
  }

  evalExpr(expr: ast.Expr, ctx: Ctx): KclValue {
    switch (expr.kind) {
      case 'Identifier':
        return this.lookup(expr.name, ctx, expr.span);
      case 'NumberLit':
        return this.evalNumber(expr);
      case 'StringLit':
        return expr.value;
      case 'InterpolatedString':
        return this.evalInterpolated(expr, ctx);
      case 'NameConstant':
        return nameConstant(expr.value);
      case 'ParenExpr':
        return this.evalExpr(expr.expr, ctx);
      case 'UnaryExpr':
        return unaryOp(expr.op, this.evalExpr(expr.operand, ctx));
      case 'BinaryExpr':
        return this.evalBinary(expr, ctx);
      case 'CompareExpr':
        return this.evalCompare(expr, ctx);
      case 'IfExpr':
        return truthy(this.evalExpr(expr.cond, ctx))
          ? this.evalExpr(expr.body, ctx)
          : this.evalExpr(expr.orelse, ctx);
      case 'AsExpr':
        return this.evalAs(expr, ctx);
      case 'SelectorExpr':
        return this.selectAttr(this.evalExpr(expr.value, ctx), expr.attr, expr.optional, expr.span);
      case 'SubscriptExpr':
        return this.evalSubscript(expr, ctx);
      case 'SliceExpr':
        return this.evalSlice(expr, ctx);
      case 'CallExpr':
        return this.evalCall(expr, ctx);
      case 'ListExpr':
        return new KclList(this.evalListItems(expr.elts, ctx));
      case 'ListIfItem':
      case 'StarredExpr':
        return new KclList(this.evalListItems([expr], ctx));
      case 'ListComp':
        return this.evalListComp(expr, ctx);
      case 'DictComp':
        return this.evalDictComp(expr, ctx);
      case 'ConfigExpr':
        return this.configs.evalConfig(expr, ctx);
      case 'SchemaExpr':
        return this.evalSchemaExpr(expr, ctx);
      case 'QuantExpr':
        return this.evalQuant(expr, ctx);
      case 'LambdaExpr':
        return this.makeLambda(expr, ctx);
      case 'MissingExpr':
        // The parser reported the missing operand; the run stops here and that error is shown.
        throw new KclRuntimeError('expected expression');
    }
  }

  protected evalNumber(lit: ast.NumberLit): KclValue {
    if (lit.suffix) return new KclUnit(BigInt(Math.trunc(lit.value)), lit.suffix);
    // `-r` narrows the range of computed results only; literals are held to 64 bits.
    if (lit.isFloat) return checkFloatRange(lit.value);
    return checkIntRange(parseIntLiteral(lit.raw));
  }

  protected evalInterpolated(expr: ast.InterpolatedString, ctx: Ctx): string {
    let out = '';
    for (const part of expr.parts) {
      if (part.kind === 'StringText') {
        out += part.value;
        continue;
      }
      const value = this.evalExpr(part.expr, ctx);
      const spec = part.formatSpec;
      const kind = spec?.toLowerCase();
      if (kind === '#json') out += emitJson(value);
      else if (kind === '#yaml') out += emitYaml(value);
      else if (kind?.startsWith('#'))
        throw errorAt('CompileError', part.expr.span, `${spec} is a invalid format spec`);
      else if (spec) out += applyFormatSpec(value, spec);
      else out += this.str(value);
    }
    return out;
  }

  reachLine(span: ast.Span): void {
    this.lastLine = span;
  }

  recover(entries: readonly DiagnosticEntry[]): void {
    this.recoveredErrors.push(...entries);
  }

  str(v: KclValue): string {
    if (typeof v === 'string') return v;
    return this.builtins.get('str')!.call([v], new Map()) as string;
  }

  protected evalBinary(expr: ast.BinaryExpr, ctx: Ctx): KclValue {
    const left = this.evalExpr(expr.left, ctx);
    if (expr.op === 'and') return truthy(left) ? this.evalExpr(expr.right, ctx) : left;
    if (expr.op === 'or') return truthy(left) ? left : this.evalExpr(expr.right, ctx);
    const right = this.evalExpr(expr.right, ctx);
    try {
      return this.binary(expr.op, left, right);
    } catch (error) {
      // Operand type errors are the type checker's: shown at the expression, literals spelled out.
      if (!(error instanceof KclRuntimeError) || !error.message.startsWith('unsupported operand'))
        throw error;
      // A None or Undefined held in a name has no static type: such errors only show at runtime.
      const untyped = (e: ast.Expr, v: KclValue) => isNoneOrUndefined(v) && !isLiteralExpr(e);
      if (untyped(expr.left, left) || untyped(expr.right, right)) throw new KclRuntimeError(error.message);
      throw errorAt(
        'TypeError',
        expr.span,
        `unsupported operand type(s) for ${expr.op}: '${staticTypeText(expr.left, left)}' and '${staticTypeText(expr.right, right)}'`,
      );
    }
  }

  protected binary(op: BinaryOperator, left: KclValue, right: KclValue): KclValue {
    if (op === '|' && isSchema(left) && isConfig(right)) return this.mergeIntoSchema(left, right);
    const unsupported =
      op === '|'
        ? isList(left)
          ? isConfig(right)
          : (isConfig(left) && isList(right)) || (isDictValue(left) && isSchema(right))
        : ARITHMETIC.has(op) && (typeof left === 'boolean' || typeof right === 'boolean');
    if (unsupported) {
      throw new KclRuntimeError(
        `unsupported operand type(s) for ${op}: '${typeName(left)}' and '${typeName(right)}'`,
        'TypeError',
      );
    }
    const result = binaryOp(op, left, right);
    if (this.opts.strictRangeCheck) {
      if (typeof result === 'bigint') checkIntRange(result, 32);
      else if (typeof result === 'number') checkFloatRange(result, true);
    } else if (typeof result === 'number') checkFloatRange(result);
    return result;
  }

  /**
   * `value as T`. When the operand's type is known statically (a literal, a global declared
   * with a type) a failed conversion is the type checker's error; otherwise a runtime one.
   */
  protected evalAs(expr: ast.AsExpr, ctx: Ctx): KclValue {
    const value = this.evalExpr(expr.value, ctx);
    const type = this.resolveType(expr.type, ctx);
    const converted = convert(value, type);
    if (converted !== MISMATCH) return converted;
    const operand = expr.value;
    const declared =
      operand.kind === 'Identifier' && !ctx.locals && !ctx.frame
        ? ctx.pkg.types.get(operand.name)
        : undefined;
    const known = isLiteralExpr(operand) ? valueTypeText(value) : declared && checkerTypeText(declared);
    // Between schemas the checker cannot tell (a child may convert): the runtime decides.
    if (!known || isSchema(value) || type.kind === 'schema') return this.convertRuntime(value, type);
    throw errorAt(
      'TypeError',
      operand.span,
      `Conversion of type '${known}' to type '${typeText(type)}' may be a mistake because neither type sufficiently overlaps with the other`,
    );
  }

  protected evalCompare(expr: ast.CompareExpr, ctx: Ctx): KclValue {
    let left = this.evalExpr(expr.left, ctx);
    let leftExpr = expr.left;
    for (let i = 0; i < expr.ops.length; i++) {
      const rightExpr = expr.comparators[i]!;
      const right = this.evalExpr(rightExpr, ctx);
      const op = expr.ops[i]!;
      // Lists have no order in KCL's type system.
      if (ORDERING.has(op) && isList(left) && isList(right)) {
        throw errorAt(
          'TypeError',
          leftExpr.span,
          `unsupported operand type(s) for ${op}: '${staticTypeText(leftExpr, left)}' and '${staticTypeText(rightExpr, right)}'`,
        );
      }
      if (!truthy(binaryOp(op, left, right))) return false;
      left = right;
      leftExpr = rightExpr;
    }
    return true;
  }

  protected selectAttr(value: KclValue, attr: string, optional: boolean, span: ast.Span): KclValue {
    if (isNoneOrUndefined(value)) {
      if (optional) return null;
      throw new KclRuntimeError(`'${typeName(value)}' object has no attribute '${attr}'`, 'AttributeError');
    }
    if (typeof value === 'string') {
      const method = stringMethod(value, attr);
      if (method) return method;
      throw new KclRuntimeError(`'str' object has no attribute '${attr}'`, 'AttributeError');
    }
    if (typeof value !== 'object') {
      throw new KclRuntimeError(`'${typeName(value)}' object has no attribute '${attr}'`, 'AttributeError');
    }
    switch (value.kind) {
      case 'dict':
        return orUndefined(value.entries.get(attr));
      case 'schema': {
        const found = value.attrs.get(attr);
        if (found !== undefined) return found;
        // An instance's type is known statically: a name its schema lacks is the checker's error.
        const def = originOf<Ctx>(value)?.def;
        const info = def && this.resolveSchema(def);
        if (info && !info.indexSignature && !info.attrs.has(attr) && !bodyAssigns(info, attr))
          throw errorAt('TypeError', span, `attribute '${attr}' not found in '${value.name}'`);
        return UNDEFINED;
      }
      case 'module': {
        const member = value.members.get(attr);
        if (member !== undefined) return member;
        const pkg = [...this.packages.values()].find((p) => p.module === value);
        const aliased = pkg && this.aliasedSchema(pkg, attr);
        if (aliased) return aliased;
        throw errorAt('TypeError', span, `attribute '${attr}' not found in 'module '${value.name}''`);
      }
      case 'schemaType':
        if (attr === 'instances' && value instanceof SchemaDef) {
          // By default only instances made by the main package; `instances(True)` gives all.
          const def = value as Def;
          return makeFunction('instances', (positional, keywords) => {
            const all = truthy(positional[0] ?? keywords.get('full_pkg') ?? false);
            const made = def.instances.filter((i) => all || i.pkgpath === '__main__');
            return new KclList(made.map((i) => i.instance));
          });
        }
        throw new KclRuntimeError(`schema '${value.name}' has no attribute '${attr}'`, 'AttributeError');
      default:
        throw new KclRuntimeError(`'${typeName(value)}' object has no attribute '${attr}'`, 'AttributeError');
    }
  }

  protected evalSubscript(expr: ast.SubscriptExpr, ctx: Ctx): KclValue {
    const value = this.evalExpr(expr.value, ctx);
    if (expr.optional && isNoneOrUndefined(value)) return null;
    const index = this.evalExpr(expr.index, ctx);
    if (typeof value === 'string') {
      const chars = [...value];
      const i = this.listIndex(index, chars.length, 'string');
      return chars[i]!;
    }
    if (isList(value)) return value.items[this.listIndex(index, value.items.length, 'list')]!;
    if (isConfig(value)) {
      if (typeof index !== 'string') return UNDEFINED;
      return orUndefined(configEntries(value).get(index));
    }
    if (isNoneOrUndefined(value)) {
      throw new KclRuntimeError(`'${typeName(value)}' object is not subscriptable`, 'TypeError');
    }
    throw new KclRuntimeError(`'${typeName(value)}' object is not subscriptable`, 'TypeError');
  }

  protected listIndex(index: KclValue, length: number, what: string): number {
    if (typeof index !== 'bigint' && typeof index !== 'boolean') {
      throw new KclRuntimeError(`${what} indices must be integers, not ${typeName(index)}`, 'TypeError');
    }
    const n = typeof index === 'boolean' ? (index ? 1 : 0) : Number(index);
    const i = n < 0 ? length + n : n;
    if (i < 0 || i >= length) throw new KclRuntimeError(`${what} index out of range: ${n}`, 'IndexError');
    return i;
  }

  protected evalSlice(expr: ast.SliceExpr, ctx: Ctx): KclValue {
    const value = this.evalExpr(expr.value, ctx);
    if (expr.optional && isNoneOrUndefined(value)) return null;
    const bound = (e: ast.Expr | null): number | null => {
      if (!e) return null;
      const v = this.evalExpr(e, ctx);
      if (isNoneOrUndefined(v)) return null;
      if (typeof v !== 'bigint')
        throw new KclRuntimeError('slice indices must be integers or None', 'TypeError');
      return Number(v);
    };
    const step = bound(expr.step) ?? 1;
    if (step === 0) throw new KclRuntimeError('slice step cannot be zero', 'ValueError');
    const items = typeof value === 'string' ? [...value] : isList(value) ? value.items : null;
    if (!items) throw new KclRuntimeError(`'${typeName(value)}' object is not subscriptable`, 'TypeError');
    const picked = sliceItems(items, bound(expr.lower), bound(expr.upper), step);
    return typeof value === 'string' ? (picked as string[]).join('') : new KclList(picked as KclValue[]);
  }

  protected evalKeywords(keywords: ast.Keyword[], ctx: Ctx): Map<string, KclValue> {
    const out = new Map<string, KclValue>();
    for (const k of keywords) out.set(k.name, this.evalExpr(k.value, ctx));
    return out;
  }

  protected evalCall(expr: ast.CallExpr, ctx: Ctx): KclValue {
    const func = this.evalExpr(expr.func, ctx);
    // `x?.f()` on a None `x` is None: the optional selector short-circuits the call.
    if (isNoneOrUndefined(func) && expr.func.kind === 'SelectorExpr' && expr.func.optional) return null;
    const positional: KclValue[] = [];
    for (const arg of expr.args) {
      if (arg.kind === 'StarredExpr') positional.push(...iterate(this.evalExpr(arg.value, ctx)));
      else positional.push(this.evalExpr(arg, ctx));
    }
    const keywords = this.evalKeywords(expr.keywords, ctx);
    if (
      typeof func !== 'object' ||
      func === null ||
      (func.kind !== 'function' && func.kind !== 'schemaType')
    ) {
      throw new KclRuntimeError(`'${typeName(func)}' object is not callable`, 'TypeError');
    }
    if (func instanceof SchemaDef) checkArity(func.node.params, positional, keywords, expr.func.span);
    try {
      return func.call(positional, keywords);
    } catch (error) {
      if (error instanceof ArgumentTypeError && error.callee === func)
        throw argumentError(error, expr.args, expr.keywords);
      if (
        error instanceof MissingArgumentError &&
        error.args.positional === positional &&
        keywords.size === 0
      ) {
        // The checker knows builtin signatures: too few arguments is its error, at the call.
        const expected = error.index + 1;
        const message = `expected ${expected} positional argument${expected > 1 ? 's' : ''}, found ${positional.length}`;
        throw errorAt('CompileError', expr.func.span, message);
      }
      if (error instanceof KclRuntimeError && error.errorKind === 'TypeError' && func instanceof SchemaDef) {
        throw errorAt(
          'CompileError',
          expr.args[0]?.span ?? expr.keywords[0]?.span ?? expr.span,
          error.message,
        );
      }
      throw error;
    }
  }

  protected evalListItems(elts: ast.Expr[], ctx: Ctx): KclValue[] {
    const out: KclValue[] = [];
    for (const elt of elts) {
      if (elt.kind === 'StarredExpr') {
        const v = this.evalExpr(elt.value, ctx);
        if (!isNoneOrUndefined(v)) out.push(...iterate(v));
      } else if (elt.kind === 'ListIfItem') {
        const branch = truthy(this.evalExpr(elt.cond, ctx)) ? elt.body : elt.orelse;
        if (branch) out.push(...this.evalListItems(branch, ctx));
      } else {
        out.push(this.evalExpr(elt, ctx));
      }
    }
    return out;
  }

  /** Runs the generators of a comprehension, calling `emit` for each innermost binding. */
  protected comprehend(generators: ast.CompClause[], ctx: Ctx, emit: (ctx: Ctx) => void, depth = 0): void {
    const gen = generators[depth];
    if (!gen) {
      emit(ctx);
      return;
    }
    const iterable = this.evalExpr(gen.iter, ctx);
    const scope = new Scope(ctx.locals);
    const inner: Ctx = { ...ctx, locals: scope };
    for (const binding of this.bindings(iterable, gen.targets)) {
      this.tick();
      gen.targets.forEach((t, i) => scope.vars.set(t.name, orUndefined(binding[i])));
      if (gen.ifs.every((cond) => truthy(this.evalExpr(cond, inner))))
        this.comprehend(generators, inner, emit, depth + 1);
    }
  }

  /** The loop variable values for each item: `x`, `i, x` for lists, `k, v` for configs. */
  protected bindings(iterable: KclValue, targets: readonly ast.Identifier[]): KclValue[][] {
    if (targets.length > 2) {
      throw errorAt(
        'CompileError',
        { ...targets[1]!.span, column: targets[1]!.span.endColumn },
        `the number of loop variables is ${targets.length}, which can only be 1 or 2`,
      );
    }
    const two = targets.length === 2;
    if (isNoneOrUndefined(iterable)) return [];
    if (isConfig(iterable)) return [...configEntries(iterable)].map(([k, v]) => (two ? [k, v] : [k]));
    const items = iterate(iterable);
    return items.map((item, i) => (two ? [BigInt(i), item] : [item]));
  }

  protected evalListComp(expr: ast.ListComp, ctx: Ctx): KclList {
    const out: KclValue[] = [];
    this.comprehend(expr.generators, ctx, (inner) => {
      if (expr.elt.kind === 'StarredExpr' || expr.elt.kind === 'ListIfItem')
        out.push(...this.evalListItems([expr.elt], inner));
      else out.push(this.evalExpr(expr.elt, inner));
    });
    return new KclList(out);
  }

  protected evalDictComp(expr: ast.DictComp, ctx: Ctx): KclDict {
    const dict = new KclDict(new Map(), new Map());
    // In a comprehension a name key is the loop variable's value, not a literal name.
    const entry = expr.entry;
    const key = entry.key?.kind === 'QualifiedName' ? qualifiedAsExpr(entry.key) : entry.key;
    this.comprehend(expr.generators, ctx, (inner) =>
      this.configs.addConfigItem(dict, { ...entry, key }, inner),
    );
    return dict;
  }

  protected evalQuant(expr: ast.QuantExpr, ctx: Ctx): KclValue {
    const target = this.evalExpr(expr.target, ctx);
    const scope = new Scope(ctx.locals);
    const inner: Ctx = { ...ctx, locals: scope };
    const isConfigTarget = isConfig(target);
    const kept: KclValue[] = [];
    const keptEntries = new Map<string, KclValue>();
    for (const binding of this.bindings(target, expr.variables)) {
      this.tick();
      expr.variables.forEach((v, i) => scope.vars.set(v.name, orUndefined(binding[i])));
      if (expr.ifCond && !truthy(this.evalExpr(expr.ifCond, inner))) continue;
      const result = this.evalExpr(expr.test, inner);
      switch (expr.op) {
        case 'all':
          if (!truthy(result)) return false;
          break;
        case 'any':
          if (truthy(result)) return true;
          break;
        case 'map':
          kept.push(result);
          break;
        case 'filter':
          if (truthy(result)) {
            if (isConfigTarget) {
              const key = binding[0] as string;
              keptEntries.set(key, orUndefined(configEntries(target as KclDict).get(key)));
            } else kept.push(orUndefined(binding[binding.length - 1]));
          }
      }
    }
    switch (expr.op) {
      case 'all':
        return true;
      case 'any':
        return false;
      case 'map':
        return new KclList(kept);
      case 'filter':
        return isConfigTarget ? new KclDict(keptEntries) : new KclList(kept);
    }
  }

  protected makeLambda(expr: ast.LambdaExpr, closure: Ctx): KclFunction {
    // A config the body ends with is checked against the return type when the lambda is written.
    const last = expr.body.at(-1);
    if (expr.returnType && last?.kind === 'ExprStmt')
      this.checkConfigKeys(last.expr, this.resolveType(expr.returnType, closure), closure);
    const fn: KclFunction = makeFunction('lambda', (positional, keywords) =>
      this.callLambda(fn, expr, closure, positional, keywords),
    );
    return fn;
  }

  protected callLambda(
    fn: KclFunction,
    expr: ast.LambdaExpr,
    closure: Ctx,
    positional: readonly KclValue[],
    keywords: ReadonlyMap<string, KclValue>,
  ): KclValue {
    this.tick();
    const scope = new Scope(closure.locals);
    const ctx: Ctx = { ...closure, locals: scope };
    if (positional.length > expr.params.length) {
      throw new KclRuntimeError(
        `lambda takes ${expr.params.length} positional argument${expr.params.length > 1 ? 's' : ''} but ${positional.length} were given`,
        'TypeError',
      );
    }
    const mismatches: ArgumentMismatch[] = [];
    expr.params.forEach((param, i) => {
      let value = i < positional.length ? positional[i] : keywords.get(param.name);
      if (value === undefined) {
        if (!param.default)
          throw new KclRuntimeError(
            `lambda() missing 1 required positional argument: '${param.name}'`,
            'TypeError',
          );
        value = this.evalExpr(param.default, ctx);
      }
      value = this.convertArgument(param, value, i < positional.length ? i : param.name, closure, mismatches);
      scope.vars.set(param.name, value);
    });
    if (mismatches.length > 0) throw new ArgumentTypeError(fn, mismatches);
    let result = this.runLocal(expr.body, ctx);
    if (expr.returnType) result = this.convertRuntime(result, this.resolveType(expr.returnType, closure));
    return result;
  }

  /** A lambda body: plain top-to-bottom statements; the last expression is the result. */
  protected runLocal(stmts: ast.Stmt[], ctx: Ctx): KclValue {
    let result: KclValue = null;
    const scope = ctx.locals!;
    for (const stmt of stmts) {
      this.tick();
      switch (stmt.kind) {
        case 'ExprStmt':
          result = this.evalExpr(stmt.expr, ctx);
          break;
        case 'IfStmt':
          result = this.runLocal(truthy(this.evalExpr(stmt.cond, ctx)) ? stmt.body : stmt.orelse, ctx);
          break;
        case 'AssertStmt':
          this.execAssert(stmt, ctx);
          break;
        case 'AssignStmt':
        case 'AugAssignStmt':
        case 'UnificationStmt': {
          const values = new Map<string, KclValue>();
          for (const name of assignedNames(stmt)) {
            const current = this.localValue(name, ctx);
            if (current !== undefined) values.set(name, current);
            const pending = new Map<string, PendingUnification>();
            this.assign(name, stmt, ctx, values, new Map(), pending);
            this.finishUnification(pending, values, name, null);
            const v = values.get(name);
            if (v !== undefined) scope.vars.set(name, v);
          }
          // A lambda whose last statement is an assignment returns the assigned value.
          const last = assignedNames(stmt)[0];
          result = last === undefined ? null : orUndefined(scope.vars.get(last));
          break;
        }
        default:
          break;
      }
    }
    return result;
  }

  protected localValue(name: string, ctx: Ctx): KclValue | undefined {
    for (let scope = ctx.locals; scope; scope = scope.parent) {
      const v = scope.vars.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Helpers

/** The first entry of a literal dict whose value does not fit `type`. */
/**
 * In a dict written literally for a dict type, the chain of entries whose values do not fit,
 * from the innermost nested one out.
 */
function mismatchedEntries(expr: ast.Expr | null, value: KclValue, type: KType): EntryMismatch[] {
  if (type.kind !== 'dict' || expr?.kind !== 'ConfigExpr' || !isDictValue(value)) return [];
  return mismatchIn(expr.items, value, type.value);
}

/** A config entry whose value does not fit; `entry` marks an `if` reported for an entry in it. */
interface EntryMismatch {
  at: ast.Span;
  got: string;
  type: KType;
  value: KclValue;
  entry?: ast.Span;
}

function mismatchIn(items: readonly ast.ConfigItem[], value: KclDict, type: KType): EntryMismatch[] {
  for (const item of items) {
    if (item.kind === 'ConfigIfEntry') {
      // The checker reports the entry, then the `if` holding it with the value's plain type.
      const inner = mismatchIn([...item.body, ...(item.orelse ?? [])], value, type);
      const last = inner.at(-1);
      if (!last) continue;
      return [
        ...inner,
        { at: item.span, got: plainTypeText(last.value), type, value: last.value, entry: last.at },
      ];
    }
    if (item.key === null) continue;
    const key =
      item.key.kind === 'StringLit'
        ? item.key.value
        : item.key.kind === 'QualifiedName'
          ? item.key.names.join('.')
          : null;
    const v = key === null ? undefined : value.entries.get(key);
    if (v === undefined || convert(v, type) !== MISMATCH) continue;
    const here = { at: item.key.span, got: staticTypeText(item.value, v), type, value: v };
    return [...mismatchedEntries(item.value, v, type), here];
  }
  return [];
}

/** The checker's count of required parameters a call supplies. */
export function checkArity(
  params: readonly ast.Parameter[],
  positional: readonly KclValue[],
  keywords: ReadonlyMap<string, KclValue>,
  at: ast.Span,
): void {
  const required = params.filter((p) => !p.default);
  const supplied = required.filter(
    (p) => params.indexOf(p) < positional.length || keywords.has(p.name),
  ).length;
  if (supplied < required.length) {
    const n = required.length;
    throw errorAt(
      'CompileError',
      at,
      `expected ${n} positional argument${n === 1 ? '' : 's'}, found ${supplied}`,
    );
  }
}

export function isDictValue(v: KclValue): v is KclDict {
  return typeof v === 'object' && v !== null && v.kind === 'dict';
}

/** A call's argument type error, at the argument, as the type checker reports it. */
/** The checker's report of mismatched arguments: at each argument and at its parameter. */
export function argumentError(error: ArgumentTypeError, args: ast.Expr[], keywords: ast.Keyword[]) {
  const entries: DiagnosticEntry[] = [];
  for (const { argument, param, expected, value } of error.mismatches) {
    const expr =
      typeof argument === 'number' ? args[argument] : keywords.find((k) => k.name === argument)?.value;
    if (!expr) return error;
    const got = staticTypeText(expr, value);
    const type = checkerTypeText(expected);
    const labels = [
      labelAt(expr.span, `expected ${type}, got ${got}`),
      labelAt(param.span, `variable is defined here, its type is ${type}, but got ${got}`),
    ];
    entries.push(...diagnostic('TypeError', labels).entries);
  }
  return new KclDiagnostic(entries);
}

export function sliceItems<T>(
  items: readonly T[],
  lower: number | null,
  upper: number | null,
  step: number,
): T[] {
  const n = items.length;
  const clamp = (i: number, lo: number, hi: number) => Math.min(Math.max(i, lo), hi);
  const out: T[] = [];
  if (step > 0) {
    const start = lower === null ? 0 : clamp(lower < 0 ? lower + n : lower, 0, n);
    const stop = upper === null ? n : clamp(upper < 0 ? upper + n : upper, 0, n);
    for (let i = start; i < stop; i += step) out.push(items[i]!);
  } else {
    const start = lower === null ? n - 1 : clamp(lower < 0 ? lower + n : lower, -1, n - 1);
    const stop = upper === null ? -1 : clamp(upper < 0 ? upper + n : upper, -1, n - 1);
    for (let i = start; i > stop; i += step) out.push(items[i]!);
  }
  return out;
}

/** True when `type` is a float literal type or a union holding one. */
export function admitsFloatLiteral(type: KType): boolean {
  if (type.kind === 'union') return type.types.some(admitsFloatLiteral);
  return type.kind === 'literal' && typeof type.value === 'number';
}
