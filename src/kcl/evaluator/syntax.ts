/** Questions about syntax trees the evaluator asks: what a statement assigns, what a key names. */
import type * as ast from '../ast.ts';
import { UNDEFINED, type KclValue } from '../values.ts';
import type { Branch } from './lazy.ts';
import type { ResolvedSchema } from './schema.ts';

/** The names a statement assigns. */
export function assignedNames(stmt: ast.Stmt): string[] {
  switch (stmt.kind) {
    case 'AssignStmt':
      return [...new Set(stmt.targets.map((t) => t.name))];
    case 'AugAssignStmt':
      return [stmt.target.name];
    case 'UnificationStmt':
      return [stmt.target.name];
    case 'SchemaAttr':
      return stmt.value || stmt.type.kind === 'LiteralType' ? [stmt.name] : [];
    default:
      return [];
  }
}

export function isIntLiteral(expr: ast.Expr): boolean {
  if (expr.kind === 'UnaryExpr' && expr.op === '-') return isIntLiteral(expr.operand);
  return expr.kind === 'NumberLit' && !expr.isFloat && expr.suffix === null;
}

/** The variable a config entry's key introduces: its first name, if written as a name or string. */
export function firstKeyName(key: ast.ConfigEntry['key']): string | null {
  if (key === null) return null;
  if (key.kind === 'QualifiedName') return key.names[0] ?? null;
  if (key.kind === 'StringLit') return key.value;
  if (key.kind === 'SubscriptExpr') return keyNames(key.value)?.[0] ?? null;
  return null;
}

export function qualifiedAsExpr(name: ast.QualifiedName): ast.Expr {
  let expr: ast.Expr = { kind: 'Identifier', span: name.span, name: name.names[0]! };
  for (const attr of name.names.slice(1))
    expr = { kind: 'SelectorExpr', span: name.span, value: expr, attr, optional: false };
  return expr;
}

/** `a` or `a.b` written as a config key, as a list of names; null for other expressions. */
export function keyNames(expr: ast.Expr): string[] | null {
  if (expr.kind === 'Identifier') return [expr.name];
  if (expr.kind === 'SelectorExpr') {
    const head = keyNames(expr.value);
    return head && [...head, expr.attr];
  }
  return null;
}

/** True when two setters sit in different branches of one `if`, so only one can run. */
export function exclusive(a: Branch[], b: Branch[]): boolean {
  return a.some((x) => b.some((y) => x.stmt === y.stmt && x.taken !== y.taken));
}

export function nameConstant(value: ast.NameConstant['value']): KclValue {
  switch (value) {
    case 'True':
      return true;
    case 'False':
      return false;
    case 'None':
      return null;
    case 'Undefined':
      return UNDEFINED;
  }
}

export function parseIntLiteral(raw: string): bigint {
  const text = raw.replace(/_/g, '');
  if (/^0[0-7]+$/.test(text)) return BigInt(`0o${text.slice(1)}`);
  return BigInt(text);
}

export function isLiteralExpr(expr: ast.Expr): boolean {
  switch (expr.kind) {
    case 'NumberLit':
    case 'StringLit':
    case 'NameConstant':
      return true;
    case 'ListExpr':
      return expr.elts.every(isLiteralExpr);
    case 'ConfigExpr':
      return expr.items.every((i) => i.kind === 'ConfigEntry' && isLiteralExpr(i.value));
    case 'UnaryExpr':
      return isLiteralExpr(expr.operand);
    default:
      return false;
  }
}

/** True when some body statement of the schema assigns `name` (an attribute without a declaration). */
export function bodyAssigns(info: ResolvedSchema<unknown>, name: string): boolean {
  const assigns = (stmts: ast.Stmt[]): boolean =>
    stmts.some((s) =>
      s.kind === 'IfStmt' ? assigns(s.body) || assigns(s.orelse) : assignedNames(s).includes(name),
    );
  return info.parts.some((part) => assigns(part.stmts));
}
