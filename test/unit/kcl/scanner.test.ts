import { describe, expect, it } from 'vitest';
import { KclDiagnostic } from '../../../src/kcl/diagnostics.ts';
import { decodeEscapes, scan } from '../../../src/kcl/scanner.ts';
import { SourceFile } from '../../../src/kcl/source.ts';
import { TokenKind } from '../../../src/kcl/tokens.ts';
import type { Token } from '../../../src/kcl/tokens.ts';

const NAMES: Record<number, string> = {
  [TokenKind.EOF]: 'EOF',
  [TokenKind.Newline]: 'NL',
  [TokenKind.Indent]: 'INDENT',
  [TokenKind.Dedent]: 'DEDENT',
};

function tokens(text: string): Token[] {
  return scan(new SourceFile('main.k', text)).tokens;
}

/** Compact token listing: layout tokens by name, others by their text. */
function listing(text: string): string {
  return tokens(text)
    .map((token) => NAMES[token.kind] ?? token.value)
    .join(' ');
}

function scanError(text: string): KclDiagnostic {
  try {
    scan(new SourceFile('main.k', text));
  } catch (error) {
    if (error instanceof KclDiagnostic) return error;
    throw error;
  }
  throw new Error('expected a scan error');
}

describe('scanner layout', () => {
  it('emits INDENT and DEDENT around blocks, ignoring blank and comment lines', () => {
    const text = 'schema A:\n    a: int\n\n    # note\n    if x:\n        b = 1\nc = 2\n';
    expect(listing(text)).toBe(
      'schema A : NL INDENT a : int NL if x : NL INDENT b = 1 NL DEDENT DEDENT c = 2 NL EOF',
    );
  });

  it('closes open blocks at the end of input without a trailing newline', () => {
    expect(listing('if a:\n    b = 1')).toBe('if a : NL INDENT b = 1 NL DEDENT EOF');
  });

  it('joins lines after a backslash', () => {
    expect(listing('a = 1 + \\\n    2\n')).toBe('a = 1 + 2 NL EOF');
  });

  it('keeps layout inside brackets relative to the first line in them', () => {
    const text = 'f = lambda {\n    if a:\n        b\n    c\n}\n';
    expect(listing(text)).toBe('f = lambda { NL if a : NL INDENT b NL DEDENT c NL } NL EOF');
  });

  it('closes indentation opened inside a bracket before its closing bracket', () => {
    expect(listing('x = [\n  1,\n    2]\ny = 1\n')).toBe('x = [ NL 1 , NL INDENT 2 DEDENT ] NL y = 1 NL EOF');
  });

  it('reports a dedent to an unknown level', () => {
    const error = scanError('if a:\n    b = 1\n  c = 2\n');
    expect(error.kind).toBe('InvalidSyntax');
    expect(error.primary).toMatchObject({ line: 3, column: 3 });
    expect(error.primary?.message).toBe(
      'invalid indentation with 2 spaces, try to align indents by adding or removing spaces',
    );
  });

  it('reports every badly indented line, not just the first', () => {
    const error = scanError('schema S:\n    a: int\n   b: int\n  c: str\n');
    expect(error.entries.map((entry) => entry.labels[0])).toMatchObject([
      { line: 3, column: 4, message: expect.stringContaining('with 3 spaces') },
      { line: 4, column: 3, message: expect.stringContaining('with 2 spaces') },
    ]);
  });

  it('reports inconsistent tabs and spaces', () => {
    const error = scanError('schema P:\n    name: str\n\tage: int\n');
    expect(error.primary).toMatchObject({ line: 3, column: 2 });
    expect(error.primary?.message).toBe('inconsistent use of tabs and spaces in indentation');
  });
});

describe('scanner tokens', () => {
  it('tells keywords from names, and $-escaped keywords are names', () => {
    const [ifToken, name, escaped] = tokens('if rule $if');
    expect(ifToken?.kind).toBe(TokenKind.Keyword);
    expect(name).toMatchObject({ kind: TokenKind.Name, value: 'rule' });
    expect(escaped).toMatchObject({ kind: TokenKind.Name, value: 'if', escaped: true });
  });

  it('matches the longest operator', () => {
    expect(listing('a **= b // c ... ?.d -> e != f')).toBe('a **= b // c ... ? . d -> e != f NL EOF');
  });

  it('scans numbers with bases, floats and unit suffixes', () => {
    const numbers = tokens('0x1F 0o17 0b101 1.5 2e3 .5 1Ki 2Gi 3M 4m 5n 6u 7k 8P').filter(
      (token) => token.kind === TokenKind.Number,
    );
    expect(numbers.map((token) => [token.numberValue, token.isFloat, token.suffix])).toEqual([
      [31, false, null],
      [15, false, null],
      [5, false, null],
      [1.5, true, null],
      [2000, true, null],
      [0.5, true, null],
      [1, false, 'Ki'],
      [2, false, 'Gi'],
      [3, false, 'M'],
      [4, false, 'm'],
      [5, false, 'n'],
      [6, false, 'u'],
      [7, false, 'k'],
      [8, false, 'P'],
    ]);
  });

  it('rejects binary forms of decimal-only suffixes', () => {
    const error = scanError('ni = 1ni\n');
    expect(error.primary).toMatchObject({ line: 1, column: 6, message: 'invalid int binary suffix' });
  });

  it('scans single, triple-quoted and raw strings with their content offsets', () => {
    const text = `a = "x\\"y"\nb = '''l1\nl2'''\nc = r"\\d+"\n`;
    const strings = tokens(text).filter((token) => token.kind === TokenKind.String);
    expect(strings.map((token) => [token.value, token.isLong, token.isRaw])).toEqual([
      ['"x\\"y"', false, false],
      ["'''l1\nl2'''", true, false],
      ['r"\\d+"', false, true],
    ]);
    const long = strings[1];
    expect(text.slice(long?.contentStart, long?.contentEnd)).toBe('l1\nl2');
    expect(long).toMatchObject({ line: 2, column: 5, endLine: 3, endColumn: 6 });
  });

  it('reports unterminated strings', () => {
    expect(scanError('a = "abc\n').primary).toMatchObject({
      line: 1,
      column: 5,
      message: 'unterminated string literal',
    });
  });

  it('collects comments', () => {
    const { comments } = scan(new SourceFile('main.k', 'a = 1  # one\n# two\n'));
    expect(comments.map((comment) => [comment.text, comment.span.line, comment.span.column])).toEqual([
      [' one', 1, 8],
      [' two', 2, 1],
    ]);
  });
});

describe('decodeEscapes', () => {
  const decode = (text: string): string => decodeEscapes(text, 0, text.length);

  it('resolves simple, octal, hex and unicode escapes', () => {
    expect(decode('a\\nb\\t\\\\\\"\\x41\\101\\u00e9\\U0001F600')).toBe('a\nb\t\\"AAé😀');
  });

  it('turns \\$ into a dollar and keeps unknown escapes', () => {
    expect(decode('\\${x} \\d')).toBe('${x} \\d');
  });

  it('joins lines after a backslash', () => {
    expect(decode('a\\\nb')).toBe('ab');
  });
});
