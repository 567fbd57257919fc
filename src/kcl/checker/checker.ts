/**
 * Checks made on the syntax tree before evaluation, for errors the official compiler
 * reports whether or not the code runs: parameter lists with a non-default parameter
 * after a default one, and mixin names that do not end in `Mixin`. Like the official
 * compiler, it reports every such error, so it returns them instead of throwing.
 */
import type * as ast from '../ast.ts';
import type { DiagnosticEntry } from '../diagnostics.ts';
import { diagnostic, errorAt, labelAt } from '../evaluator/errors.ts';

export function checkModule(module: ast.Module): DiagnosticEntry[] {
  const found: DiagnosticEntry[] = [];
  visit(module, found);
  return found;
}

function visit(node: ast.Node, found: DiagnosticEntry[]): void {
  switch (node.kind) {
    case 'SchemaStmt':
      checkParams(node.params, found);
      for (const mixin of node.mixins) checkMixinName(mixin, found);
      break;
    case 'RuleStmt':
    case 'LambdaExpr':
      checkParams(node.params, found);
      break;
    default:
      break;
  }
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) visit(item, found);
    } else if (isNode(value)) {
      visit(value, found);
    }
  }
}

function isNode(value: unknown): value is ast.Node {
  return typeof value === 'object' && value !== null && 'kind' in value && 'span' in value;
}

/** Each default before a non-default parameter is reported, the nearest first. */
function checkParams(params: readonly ast.Parameter[], found: DiagnosticEntry[]): void {
  const reported = new Set<ast.Expr>();
  params.forEach((param, i) => {
    if (param.default) return;
    for (let j = i - 1; j >= 0; j--) {
      const before = params[j]!.default;
      if (!before || reported.has(before)) continue;
      reported.add(before);
      const error = diagnostic(
        'IllegalParameterError',
        [labelAt(before.span, 'non-default argument follows default argument')],
        ['A default argument'],
      );
      found.push(...error.entries);
    }
  });
}

function checkMixinName(name: ast.QualifiedName, found: DiagnosticEntry[]): void {
  const last = name.names[name.names.length - 1] ?? '';
  if (!last.endsWith('Mixin')) {
    // Only a name ending in `Mixin` can name a mixin, so the object is not one either.
    found.push(
      ...errorAt('NameError', name.span, `a valid mixin name should end with 'Mixin', got '${last}'`).entries,
      ...errorAt(
        'IllegalInheritError',
        name.span,
        `illegal schema mixin object type, expected mixin, got '${last}'`,
      ).entries,
    );
  }
}
