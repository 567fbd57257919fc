/**
 * Static name resolution for one package, before it runs: every plain name used must be
 * defined somewhere in scope, even in code that never runs (a schema never instantiated,
 * a lambda never called). The official compiler reports these as CompileErrors.
 *
 * The scopes are built conservatively: where the set of visible names cannot be known
 * (a schema inheriting from another package, mixin and protocol bodies, which see their
 * host's attributes), names are not checked, so a correct program is never rejected.
 */
import type * as ast from '../ast.ts';
import type { DiagnosticEntry } from '../diagnostics.ts';
import { didYouMean, errorAt } from '../evaluator/errors.ts';
import { assignedNames, firstKeyName, isIntLiteral } from '../evaluator/syntax.ts';

/** A set of visible names; `open` scopes accept any name (their contents are unknown). */
interface Scope {
  names: ReadonlySet<string>;
  open: boolean;
  parent: Scope | null;
}

/** Returns an error for each undefined name in the package made of `modules`. */
export function resolvePackage(
  modules: readonly ast.Module[],
  builtins: ReadonlySet<string>,
): DiagnosticEntry[] {
  const globals = new Set<string>(builtins);
  const schemas = new Map<string, ast.SchemaStmt>();
  for (const module of modules) {
    collectTop(module.body, globals, schemas);
  }
  const packageScope: Scope = { names: globals, open: false, parent: null };
  const found: DiagnosticEntry[] = [];
  const resolver = new Resolver(schemas, found);
  for (const module of modules) resolver.stmts(module.body, packageScope);
  return found;
}

function collectTop(
  stmts: readonly ast.Stmt[],
  names: Set<string>,
  schemas: Map<string, ast.SchemaStmt>,
): void {
  for (const stmt of stmts) {
    switch (stmt.kind) {
      case 'SchemaStmt':
        schemas.set(stmt.name, stmt);
        names.add(stmt.name);
        break;
      case 'RuleStmt':
      case 'TypeAliasStmt':
      case 'ImportStmt':
        names.add(stmt.name);
        break;
      case 'IfStmt':
        collectTop(stmt.body, names, schemas);
        collectTop(stmt.orelse, names, schemas);
        break;
      default:
        for (const name of assignedNames(stmt)) names.add(name);
        if (stmt.kind === 'AssignStmt') for (const t of stmt.targets) names.add(t.name);
    }
  }
}

/** Names a body assigns or declares, through its `if` statements. */
function bodyNames(stmts: readonly ast.Stmt[], into: Set<string>): void {
  for (const stmt of stmts) {
    if (stmt.kind === 'IfStmt') {
      bodyNames(stmt.body, into);
      bodyNames(stmt.orelse, into);
    } else if (stmt.kind === 'SchemaAttr') {
      into.add(stmt.name);
    } else {
      for (const name of assignedNames(stmt)) into.add(name);
      if (stmt.kind === 'AssignStmt') for (const t of stmt.targets) into.add(t.name);
    }
  }
}

class Resolver {
  private readonly schemas: ReadonlyMap<string, ast.SchemaStmt>;
  private readonly found: DiagnosticEntry[];

  constructor(schemas: ReadonlyMap<string, ast.SchemaStmt>, found: DiagnosticEntry[]) {
    this.schemas = schemas;
    this.found = found;
  }

  stmts(stmts: readonly ast.Stmt[], scope: Scope): void {
    for (const stmt of stmts) this.stmt(stmt, scope);
  }

  private stmt(stmt: ast.Stmt, scope: Scope): void {
    switch (stmt.kind) {
      case 'SchemaStmt':
        this.schema(stmt, scope);
        return;
      case 'RuleStmt': {
        // A rule sees its protocol's attributes, which live elsewhere.
        const ruleScope: Scope = {
          names: new Set(stmt.params.map((p) => p.name)),
          open: true,
          parent: scope,
        };
        for (const check of stmt.checks) this.check(check, ruleScope);
        return;
      }
      case 'AssignStmt':
        for (const target of stmt.targets) this.target(target, scope);
        this.expr(stmt.value, scope);
        return;
      case 'AugAssignStmt':
        this.target(stmt.target, scope);
        this.expr(stmt.value, scope);
        return;
      case 'UnificationStmt':
        this.expr(stmt.value, scope);
        return;
      case 'ExprStmt':
        this.expr(stmt.expr, scope);
        return;
      case 'IfStmt':
        this.expr(stmt.cond, scope);
        this.stmts(stmt.body, scope);
        this.stmts(stmt.orelse, scope);
        return;
      case 'AssertStmt':
        this.expr(stmt.test, scope);
        if (stmt.ifCond) this.expr(stmt.ifCond, scope);
        if (stmt.msg) this.expr(stmt.msg, scope);
        return;
      case 'SchemaAttr':
        if (stmt.value) this.expr(stmt.value, scope);
        return;
      case 'ImportStmt':
      case 'TypeAliasStmt':
        return;
    }
  }

  private target(target: ast.Target, scope: Scope): void {
    for (const step of target.path) if (step.kind === 'index') this.expr(step.index, scope);
  }

  private schema(node: ast.SchemaStmt, outer: Scope): void {
    const names = new Set<string>(node.params.map((p) => p.name));
    const known = this.attributesOf(node, names, new Set());
    if (node.indexSignature?.keyName) names.add(node.indexSignature.keyName);
    // Mixins and protocols are evaluated inside a host schema whose attributes they see.
    const open = !known || node.flavor !== 'schema' || node.name.endsWith('Mixin') || node.forHost !== null;
    const scope: Scope = { names, open, parent: outer };
    for (const param of node.params) if (param.default) this.expr(param.default, outer);
    this.stmts(node.body, scope);
    if (node.indexSignature?.value) this.expr(node.indexSignature.value, scope);
    for (const check of node.checks) this.check(check, scope);
  }

  /** Adds the attributes of `node`, its parents and mixins; false when some are unknowable. */
  private attributesOf(node: ast.SchemaStmt, into: Set<string>, seen: Set<ast.SchemaStmt>): boolean {
    if (seen.has(node)) return true;
    seen.add(node);
    bodyNames(node.body, into);
    let known = true;
    for (const other of [...(node.parent ? [node.parent] : []), ...node.mixins]) {
      const local = other.names.length === 1 ? this.schemas.get(other.names[0]!) : undefined;
      if (local) known = this.attributesOf(local, into, seen) && known;
      else known = false;
    }
    return known;
  }

  private check(check: ast.CheckExpr, scope: Scope): void {
    this.expr(check.test, scope);
    if (check.ifCond) this.expr(check.ifCond, scope);
    if (check.msg) this.expr(check.msg, scope);
  }

  private name(id: ast.Identifier, scope: Scope): void {
    for (let s: Scope | null = scope; s; s = s.parent) {
      if (s.open || s.names.has(id.name)) return;
    }
    // Like the official compiler, suggest only package-level names.
    let top: Scope = scope;
    while (top.parent) top = top.parent;
    const visible = [...top.names];
    this.found.push(
      ...errorAt('CompileError', id.span, `name '${id.name}' is not defined${didYouMean(id.name, visible)}`)
        .entries,
    );
  }

  private exprs(exprs: readonly ast.Expr[], scope: Scope): void {
    for (const e of exprs) this.expr(e, scope);
  }

  private expr(expr: ast.Expr, scope: Scope): void {
    switch (expr.kind) {
      case 'Identifier':
        this.name(expr, scope);
        return;
      case 'NumberLit':
      case 'StringLit':
      case 'NameConstant':
      case 'MissingExpr':
        return;
      case 'InterpolatedString':
        for (const part of expr.parts) if (part.kind === 'FormattedValue') this.expr(part.expr, scope);
        return;
      case 'UnaryExpr':
        this.expr(expr.operand, scope);
        return;
      case 'BinaryExpr':
        this.expr(expr.left, scope);
        this.expr(expr.right, scope);
        return;
      case 'CompareExpr':
        this.expr(expr.left, scope);
        this.exprs(expr.comparators, scope);
        return;
      case 'IfExpr':
        this.exprs([expr.cond, expr.body, expr.orelse], scope);
        return;
      case 'AsExpr':
      case 'ParenExpr':
      case 'StarredExpr':
        this.expr(expr.kind === 'ParenExpr' ? expr.expr : expr.value, scope);
        return;
      case 'SelectorExpr':
        this.expr(expr.value, scope);
        return;
      case 'SubscriptExpr':
        this.exprs([expr.value, expr.index], scope);
        return;
      case 'SliceExpr':
        this.expr(expr.value, scope);
        for (const part of [expr.lower, expr.upper, expr.step]) if (part) this.expr(part, scope);
        return;
      case 'CallExpr':
        this.expr(expr.func, scope);
        this.exprs(expr.args, scope);
        for (const k of expr.keywords) this.expr(k.value, scope);
        return;
      case 'ListExpr':
        this.exprs(expr.elts, scope);
        return;
      case 'ListIfItem':
        this.expr(expr.cond, scope);
        this.exprs(expr.body, scope);
        if (expr.orelse) this.exprs(expr.orelse, scope);
        return;
      case 'ListComp':
        this.expr(expr.elt, this.generators(expr.generators, scope));
        return;
      case 'DictComp':
        this.configItems([expr.entry], this.generators(expr.generators, scope), true);
        return;
      case 'ConfigExpr':
        this.config(expr, scope);
        return;
      case 'SchemaExpr':
        this.name({ kind: 'Identifier', span: expr.name.span, name: expr.name.names[0]! }, scope);
        this.exprs(expr.args, scope);
        for (const k of expr.keywords) this.expr(k.value, scope);
        this.config(expr.config, scope);
        return;
      case 'QuantExpr': {
        this.expr(expr.target, scope);
        const inner: Scope = {
          names: new Set(expr.variables.map((v) => v.name)),
          open: false,
          parent: scope,
        };
        this.expr(expr.test, inner);
        if (expr.ifCond) this.expr(expr.ifCond, inner);
        return;
      }
      case 'LambdaExpr': {
        const names = new Set(expr.params.map((p) => p.name));
        bodyNames(expr.body, names);
        const inner: Scope = { names, open: false, parent: scope };
        for (const param of expr.params) if (param.default) this.expr(param.default, scope);
        this.stmts(expr.body, inner);
        return;
      }
    }
  }

  /** Loop variables are visible in later generators and the element. */
  private generators(generators: readonly ast.CompClause[], scope: Scope): Scope {
    let current = scope;
    for (const gen of generators) {
      this.expr(gen.iter, current);
      current = { names: new Set(gen.targets.map((t) => t.name)), open: false, parent: current };
      this.exprs(gen.ifs, current);
    }
    return current;
  }

  /** A config's keys are visible to its entries (`metadata.name = name`). */
  private config(expr: ast.ConfigExpr, scope: Scope): void {
    const keys = new Set<string>();
    const collect = (items: readonly ast.ConfigItem[]) => {
      for (const item of items) {
        if (item.kind === 'ConfigIfEntry') {
          collect(item.body);
          collect(item.orelse ?? []);
        } else if (item.key?.kind !== 'SubscriptExpr' || isIntLiteral(item.key.index)) {
          const key = firstKeyName(item.key);
          if (key !== null) keys.add(key);
        }
      }
    };
    collect(expr.items);
    this.configItems(expr.items, { names: keys, open: false, parent: scope }, false);
  }

  /** In a comprehension a name key is a variable; elsewhere it is a literal attribute name. */
  private configItems(items: readonly ast.ConfigItem[], scope: Scope, keysAreVariables: boolean): void {
    for (const item of items) {
      if (item.kind === 'ConfigIfEntry') {
        this.expr(item.cond, scope);
        this.configItems(item.body, scope, keysAreVariables);
        this.configItems(item.orelse ?? [], scope, keysAreVariables);
        continue;
      }
      const key = item.key;
      if (key && key.kind !== 'QualifiedName' && key.kind !== 'StringLit') {
        // `a[0] = v` names an attribute `a`; any other key expression is evaluated.
        if (key.kind !== 'SubscriptExpr' || !isIntLiteral(key.index)) this.expr(key, scope);
      } else if (key?.kind === 'QualifiedName' && keysAreVariables) {
        this.name({ kind: 'Identifier', span: key.span, name: key.names[0]! }, scope);
      }
      this.expr(item.value, scope);
    }
  }
}
