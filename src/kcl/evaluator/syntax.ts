/** Questions about syntax trees the evaluator asks: what a statement assigns, what a key names. */
import type * as ast from '../ast.ts';
import { UNDEFINED, isConfig, isList, type KclValue } from '../values.ts';
import type { Branch } from './lazy.ts';
import type { ResolvedSchema } from './schema.ts';
import { plainTypeText, unionText, valueTypeText } from './types.ts';

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

/**
 * The type the checker infers for `expr`, spelled from the value it produced: literals keep
 * their values (`str(a)`, `int(1)`), including inside written lists and configs (whose keys
 * come from the branches taken); anything else shows its plain type (`str`, `[int]`).
 */
export function staticTypeText(expr: ast.Expr, value: KclValue): string {
  if (isLiteralExpr(expr) && expr.kind !== 'ConfigExpr') return valueTypeText(value);
  if (expr.kind === 'IfExpr') {
    const branch = [expr.body, expr.orelse].find((e) => e.kind === 'ConfigExpr' || e.kind === 'ListExpr');
    return branch && isConfig(value) === (branch.kind === 'ConfigExpr')
      ? staticTypeText(branch, value)
      : plainTypeText(value);
  }
  if (expr.kind === 'ListExpr' && isList(value) && value.items.length === expr.elts.length) {
    if (expr.elts.some((e) => e.kind === 'StarredExpr')) return plainTypeText(value);
    return `[${unionText(value.items.map((item, i) => staticTypeText(expr.elts[i]!, item)))}]`;
  }
  if (expr.kind === 'ConfigExpr' && isConfig(value) && value.kind === 'dict') {
    const written = writtenEntries(expr.items);
    const keys = [...value.entries.keys()];
    const values = keys.map((k) => {
      const entry = written.get(k);
      return entry
        ? staticTypeText(entry.value, value.entries.get(k)!)
        : plainTypeText(value.entries.get(k)!);
    });
    return `{${unionText(keys.map((k) => written.get(k)?.keyType ?? `str(${k})`))}:${unionText(values)}}`;
  }
  return plainTypeText(value);
}

/**
 * For each plain key of a config, branches included: the value expression written and the
 * key's literal type (a number written as a key keeps its own, though it is stored as text).
 */
function writtenEntries(
  items: readonly ast.ConfigItem[],
  out = new Map<string, { value: ast.Expr; keyType: string }>(),
): Map<string, { value: ast.Expr; keyType: string }> {
  for (const item of items) {
    if (item.kind === 'ConfigIfEntry') {
      writtenEntries(item.body, out);
      writtenEntries(item.orelse ?? [], out);
    } else if (
      item.key?.kind === 'StringLit' ||
      (item.key?.kind === 'QualifiedName' && item.key.names.length === 1)
    ) {
      const key = firstKeyName(item.key)!;
      out.set(key, { value: item.value, keyType: `str(${key})` });
    } else if (item.key?.kind === 'NumberLit' && !item.key.isFloat && item.key.suffix === null) {
      out.set(item.key.raw, { value: item.value, keyType: `int(${item.key.raw})` });
    }
  }
  return out;
}

/** A type annotation as the runtime quotes it: `[]`, `{str:}`, `"a" | 1`. */
export function annotationText(node: ast.TypeExpr): string {
  const part = (t: ast.TypeExpr | null) => (t ? annotationText(t) : '');
  switch (node.kind) {
    case 'AnyType':
      return 'any';
    case 'BasicType':
      return node.name;
    case 'NamedType':
      return node.names.join('.');
    case 'ListType':
      return `[${part(node.elem)}]`;
    case 'DictType':
      return node.key || node.value ? `{${part(node.key)}:${part(node.value)}}` : '{}';
    case 'UnionType':
      return node.types.map(annotationText).join(' | ');
    case 'LiteralType': {
      const lit = node.literal;
      if (lit.kind === 'StringLit') return JSON.stringify(lit.value);
      return lit.kind === 'NameConstant' ? lit.value : lit.raw + (lit.suffix ?? '');
    }
    case 'FunctionType':
      return `(${node.params.map(annotationText).join(', ')}) -> ${part(node.returnType) || 'any'}`;
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
