/** Building diagnostics from AST positions, in the shapes the evaluator reports. */
import type * as ast from '../ast.ts';
import { KCL_ERROR_CODES, KclDiagnostic, type DiagnosticLabel, type KclErrorKind } from '../diagnostics.ts';

/** A label with a caret at the start of `span`. */
export function labelAt(span: ast.Span, message: string): DiagnosticLabel {
  return { file: span.file, line: span.line, column: span.column, message };
}

/** A label on the line of `span` without a caret, as runtime errors are shown. */
export function lineLabel(span: ast.Span, message: string): DiagnosticLabel {
  return { file: span.file, line: span.line, column: null, message };
}

export function diagnostic(kind: KclErrorKind, labels: DiagnosticLabel[], notes?: string[]): KclDiagnostic {
  return new KclDiagnostic({ code: KCL_ERROR_CODES[kind], kind, labels, ...(notes ? { notes } : {}) });
}

/** An error at a node, caret included: what the official compiler reports. */
export function errorAt(kind: KclErrorKind, span: ast.Span, message: string): KclDiagnostic {
  return diagnostic(kind, [labelAt(span, message)]);
}

/** A runtime error with a kind the table may not know (e.g. `ValueError`): they print as EvaluationError. */
export function runtimeDiagnostic(kind: string, span: ast.Span, message: string): KclDiagnostic {
  const known = kind in KCL_ERROR_CODES ? (kind as KclErrorKind) : 'EvaluationError';
  return diagnostic(known, [lineLabel(span, message)]);
}

/** Names within edit distance that the official tool offers as `did you mean`. */
export function similarNames(name: string, candidates: Iterable<string>): string[] {
  const out: string[] = [];
  for (const candidate of candidates) {
    const close =
      name.length >= 3 && editDistance(name, candidate) <= Math.max(1, Math.floor(name.length / 3));
    // A name that only adds a prefix or suffix to another (`PersonErr`, `ErrOther`) is close too.
    const extended = candidate.length >= 3 && name.includes(candidate);
    if (candidate !== name && (close || extended)) {
      out.push(candidate);
    }
  }
  return out;
}

/** Edit distance counting a swap of neighbours as one edit (`frist` → `first`). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

export function immutableError(name: string, stmt: ast.Node, declared: ast.Node, augmented: boolean) {
  return diagnostic(
    'ImmutableError',
    [
      labelAt(
        stmt.span,
        augmented
          ? `Immutable variable '${name}' is modified during compiling`
          : `Can not change the value of '${name}', because it was declared immutable`,
      ),
      labelAt(declared.span, `The variable '${name}' is declared here${augmented ? ' firstly' : ''}`),
    ],
    [`change the variable name to '_${name}' to make it mutable`],
  );
}

export function cannotAddMember(key: string, schema: string, attrs: Iterable<string>): string {
  return `Cannot add member '${key}' to schema '${schema}'${didYouMean(key, attrs)}`;
}

/** The official `, did you mean '["a", "b"]'?` suffix, or nothing. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const similar = similarNames(name, candidates);
  return similar.length > 0 ? `, did you mean '${JSON.stringify(similar).replace(/,/g, ', ')}'?` : '';
}
