import { describe, expect, it } from 'vitest';
import { KdeliverError } from '../../../src/errors.ts';
import { KCL_ERROR_CODES, KclDiagnostic, kclError, renderDiagnostics } from '../../../src/kcl/diagnostics.ts';
import type { SourceLookup } from '../../../src/kcl/diagnostics.ts';
import { parseModule } from '../../../src/kcl/parser.ts';

function sourcesOf(files: Record<string, string>): SourceLookup {
  return (file) => files[file];
}

describe('renderDiagnostics', () => {
  it('renders a single label with the caret under the column', () => {
    const sources = sourcesOf({ '/w/main.k': 'a = 1\nb = a = 2\n' });
    const error = kclError('InvalidSyntax', { file: '/w/main.k', line: 2, column: 5, message: 'bad here' });
    expect(error.render(sources)).toBe(
      [
        'error[E1001]: InvalidSyntax',
        ' --> /w/main.k:2:5',
        '  |',
        '2 | b = a = 2',
        '  |     ^ bad here',
        '  |',
        '',
      ].join('\n'),
    );
  });

  it('widens the gutter for multi-digit line numbers', () => {
    const text = 'x = 1\n'.repeat(11) + 'y = z\n';
    const error = kclError('CompileError', {
      file: 'm.k',
      line: 12,
      column: 5,
      message: "name 'z' is not defined",
    });
    expect(error.render(sourcesOf({ 'm.k': text }))).toBe(
      [
        'error[E2L23]: CompileError',
        '  --> m.k:12:5',
        '   |',
        '12 | y = z',
        "   |     ^ name 'z' is not defined",
        '   |',
        '',
      ].join('\n'),
    );
  });

  it('prints no caret and column 1 for a label without a column', () => {
    const error = kclError('EvaluationError', { file: 'm.k', line: 1, column: null, message: 'overflow' });
    expect(error.render(sourcesOf({ 'm.k': 'a = uplimit * 2\n' }))).toBe(
      [
        'error[E3M38]: EvaluationError',
        ' --> m.k:1:1',
        '  |',
        '1 | a = uplimit * 2',
        '  |  overflow',
        '  |',
        '',
      ].join('\n'),
    );
  });

  it('renders several labels, notes and suggestions, and several entries in order', () => {
    const sources = sourcesOf({ 'm.k': 'alice = P {}\nalice.age = 1\n' });
    const immutable = new KclDiagnostic({
      code: KCL_ERROR_CODES.ImmutableError,
      kind: 'ImmutableError',
      labels: [
        { file: 'm.k', line: 2, column: 1, message: "Can not change the value of 'alice'" },
        { file: 'm.k', line: 1, column: 1, message: "The variable 'alice' is declared here" },
      ],
      notes: ["change the variable name to '_alice' to make it mutable"],
      suggestions: ['try again'],
    });
    const second = {
      code: 'E3M38',
      kind: 'EvaluationError',
      labels: [],
      message: 'Invalid value for top level arguments',
    };
    expect(renderDiagnostics([...immutable.entries, second], sources)).toBe(
      [
        'error[E1001]: ImmutableError',
        ' --> m.k:2:1',
        '  |',
        '2 | alice.age = 1',
        "  | ^ Can not change the value of 'alice'",
        '  |',
        ' --> m.k:1:1',
        '  |',
        '1 | alice = P {}',
        "  | ^ The variable 'alice' is declared here",
        '  |',
        "note: change the variable name to '_alice' to make it mutable",
        'suggestion: try again',
        'error[E3M38]: EvaluationError',
        'Invalid value for top level arguments',
        '',
      ].join('\n'),
    );
  });

  it('counts tabs as zero width and wide characters as two, like the official renderer', () => {
    const tab = kclError('InvalidSyntax', { file: 't.k', line: 1, column: 2, message: 'tabs' });
    expect(tab.render(sourcesOf({ 't.k': '\tage: int\n' }))).toContain('  | ^ tabs');
    const wide = kclError('TypeError', { file: 'w.k', line: 1, column: 7, message: 'here' });
    expect(wide.render(sourcesOf({ 'w.k': 'a = "中文"\n' }))).toContain(`  | ${' '.repeat(7)}^ here`);
  });

  it('omits the source line when the file cannot be read', () => {
    const error = kclError('TypeError', { file: '/missing.k', line: 3, column: 2, message: 'm' });
    expect(error.render(() => undefined)).toBe(
      ['error[E2G22]: TypeError', ' --> /missing.k:3:2', '  |', '  |  m', '  |', ''].join('\n'),
    );
  });

  it('renders what the parser throws in the official shape', () => {
    const text = 'schema Person:\n    name: str\n\tage: int\n';
    let thrown: unknown;
    try {
      parseModule(text, '/cases/tab/main.k');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KclDiagnostic);
    expect((thrown as KclDiagnostic).render(sourcesOf({ '/cases/tab/main.k': text }))).toBe(
      [
        'error[E1001]: InvalidSyntax',
        ' --> /cases/tab/main.k:3:2',
        '  |',
        '3 | \tage: int',
        '  | ^ inconsistent use of tabs and spaces in indentation',
        '  |',
        '',
      ].join('\n'),
    );
  });
});

describe('KclDiagnostic', () => {
  it('exposes kind, code and primary label, and a one-line message', () => {
    const error = kclError('TypeError', {
      file: 'm.k',
      line: 4,
      column: 9,
      message: 'expected int, got str',
    });
    expect(error.kind).toBe('TypeError');
    expect(error.code).toBe('E2G22');
    expect(error.primary).toMatchObject({ line: 4, column: 9 });
    expect(error.message).toBe('TypeError: m.k:4:9: expected int, got str');
  });

  it('converts to an input KdeliverError named after the kind', () => {
    const error = kclError('InvalidSyntax', { file: 'm.k', line: 1, column: 1, message: 'bad' });
    const converted = error.toKdeliverError(sourcesOf({ 'm.k': 'x\n' }));
    expect(converted).toBeInstanceOf(KdeliverError);
    expect(converted.kind).toBe('input');
    expect(converted.exitCode).toBe(3);
    expect(converted.code).toBe('KCL_INVALID_SYNTAX');
    expect(converted.message).toContain('error[E1001]: InvalidSyntax\n --> m.k:1:1');
    expect(converted.hint).toBeTruthy();
    expect(
      kclError('EvaluationError', { file: 'm.k', line: 1, column: null, message: 'x' }).toKdeliverError(
        () => undefined,
      ).code,
    ).toBe('KCL_EVALUATION_ERROR');
  });
});
