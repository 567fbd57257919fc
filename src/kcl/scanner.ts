import type { Comment, NumberSuffix } from './ast.ts';
import { KclDiagnostic, kclError } from './diagnostics.ts';
import type { DiagnosticEntry } from './diagnostics.ts';
import type { SourceFile } from './source.ts';
import { KEYWORDS, TokenKind } from './tokens.ts';
import type { Token } from './tokens.ts';

/**
 * The KCL scanner: turns source text into tokens, with Python-style INDENT/DEDENT and
 * NEWLINE tokens outside brackets. Works on char codes in one pass, like the TypeScript
 * compiler's scanner. Errors are thrown as InvalidSyntax diagnostics.
 */

export interface ScanResult {
  tokens: Token[];
  comments: Comment[];
}

export interface ScanOptions {
  /** Scan only `source.text[start, end)`. */
  start?: number;
  end?: number;
  /**
   * Scan a bare expression (the inside of `${...}`): no NEWLINE, INDENT or DEDENT tokens,
   * as if the whole range were inside brackets.
   */
  expression?: boolean;
}

const TAB_SIZE = 8;

const SUFFIXES: ReadonlySet<string> = new Set([
  'n',
  'u',
  'm',
  'k',
  'K',
  'M',
  'G',
  'T',
  'P',
  'Ki',
  'Mi',
  'Gi',
  'Ti',
  'Pi',
]);

/** Operators, longest first within each leading character. */
const PUNCTUATION = [
  '**=',
  '//=',
  '<<=',
  '>>=',
  '...',
  '**',
  '//',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '->',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '^',
  '~',
  '<',
  '>',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '.',
  ';',
  '=',
  '@',
  '?',
];

const PUNCTUATION_BY_CHAR = new Map<number, string[]>();
for (const punct of PUNCTUATION) {
  const first = punct.charCodeAt(0);
  const list = PUNCTUATION_BY_CHAR.get(first) ?? [];
  list.push(punct);
  PUNCTUATION_BY_CHAR.set(first, list);
}

const CH = {
  tab: 9,
  lf: 10,
  ff: 12,
  cr: 13,
  space: 32,
  hash: 35,
  dollar: 36,
  quote: 39,
  dquote: 34,
  dot: 46,
  zero: 48,
  nine: 57,
  backslash: 92,
  underscore: 95,
  lparen: 40,
  rparen: 41,
  lbracket: 91,
  rbracket: 93,
  lbrace: 123,
  rbrace: 125,
} as const;

function isDigit(code: number): boolean {
  return code >= CH.zero && code <= CH.nine;
}

function isNameStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === CH.underscore || code > 127;
}

function isNamePart(code: number): boolean {
  return isNameStart(code) || isDigit(code);
}

function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

interface IndentLevel {
  /** Width with tabs to the next multiple of 8. */
  column: number;
  /** Width with tabs counted as one, to detect inconsistent mixing. */
  alt: number;
}

export function scan(source: SourceFile, options: ScanOptions = {}): ScanResult {
  const text = source.text;
  const end = options.end ?? text.length;
  const expression = options.expression ?? false;
  const tokens: Token[] = [];
  const comments: Comment[] = [];
  // One indentation context for the module and one per open bracket: KCL needs layout
  // inside brackets too (lambda bodies, `if` blocks in configs). A bracket context takes
  // its base level from its first new line; lines left of the base are not errors.
  const contexts: (IndentLevel[] | null)[] = expression ? [null] : [[{ column: 0, alt: 0 }]];
  let pos = options.start ?? 0;
  let atLineStart = !expression;
  let lineHasTokens = false;

  // Indentation errors do not stop the scan, so that every badly indented line is
  // reported, as the official tool does; any other error ends it.
  const layoutErrors: DiagnosticEntry[] = [];
  const syntaxError = (offset: number, message: string): DiagnosticEntry => {
    const line = source.lineOf(offset);
    const label = { file: source.file, line, column: source.columnOf(offset, line), message };
    return kclError('InvalidSyntax', label).entries[0] as DiagnosticEntry;
  };
  const reportLayout = (offset: number, message: string): void => {
    layoutErrors.push(syntaxError(offset, message));
  };
  const fail = (offset: number, message: string): never => {
    throw new KclDiagnostic([...layoutErrors, syntaxError(offset, message)]);
  };

  const push = (
    kind: TokenKind,
    value: string,
    start: number,
    stop: number,
    extra?: Partial<Token>,
  ): Token => {
    const line = source.lineOf(start);
    const endLine = stop === start ? line : source.lineOf(stop);
    const token: Token = {
      kind,
      value,
      start,
      end: stop,
      line,
      column: source.columnOf(start, line),
      endLine,
      endColumn: source.columnOf(stop, endLine),
      ...extra,
    };
    tokens.push(token);
    return token;
  };

  /** Measures the indentation at a line start and emits INDENT/DEDENT; returns false for blank lines. */
  const handleIndentation = (): void => {
    let column = 0;
    let alt = 0;
    while (pos < end) {
      const code = text.charCodeAt(pos);
      if (code === CH.space) {
        column++;
        alt++;
      } else if (code === CH.tab) {
        column = (Math.floor(column / TAB_SIZE) + 1) * TAB_SIZE;
        alt++;
      } else if (code === CH.ff) {
        column = 0;
        alt = 0;
      } else break;
      pos++;
    }
    const code = pos < end ? text.charCodeAt(pos) : -1;
    // Blank and comment-only lines do not affect indentation.
    if (code === -1 || code === CH.lf || code === CH.cr || code === CH.hash) return;
    if (code === CH.backslash && (pos + 1 >= end || isLineBreak(pos + 1))) return;
    const inBracket = contexts.length > 1 || expression;
    const indents = contexts[contexts.length - 1];
    if (!indents) {
      contexts[contexts.length - 1] = [{ column, alt }];
      return;
    }
    let top = indents[indents.length - 1] ?? { column: 0, alt: 0 };
    if (inBracket) {
      while (indents.length > 1 && column < top.column) {
        indents.pop();
        push(TokenKind.Dedent, '', pos, pos);
        top = indents[indents.length - 1] ?? { column: 0, alt: 0 };
      }
      if (column > top.column) {
        indents.push({ column, alt });
        push(TokenKind.Indent, '', pos, pos);
      }
      return;
    }
    if (column === top.column) {
      if (alt !== top.alt) reportLayout(pos, 'inconsistent use of tabs and spaces in indentation');
    } else if (column > top.column) {
      if (alt <= top.alt) reportLayout(pos, 'inconsistent use of tabs and spaces in indentation');
      indents.push({ column, alt });
      push(TokenKind.Indent, '', pos, pos);
    } else {
      while (indents.length > 1 && column < top.column) {
        indents.pop();
        push(TokenKind.Dedent, '', pos, pos);
        top = indents[indents.length - 1] ?? { column: 0, alt: 0 };
      }
      if (column !== top.column) {
        reportLayout(
          pos,
          `invalid indentation with ${column} spaces, try to align indents by adding or removing spaces`,
        );
        // Take the line's column as a level, so that later lines are checked against it.
        indents.push({ column, alt });
      } else if (alt !== top.alt) reportLayout(pos, 'inconsistent use of tabs and spaces in indentation');
    }
  };

  const isLineBreak = (at: number): boolean => {
    const code = text.charCodeAt(at);
    return code === CH.lf || code === CH.cr;
  };

  const skipLineBreak = (): void => {
    if (text.charCodeAt(pos) === CH.cr && text.charCodeAt(pos + 1) === CH.lf) pos += 2;
    else pos++;
  };

  const scanNumber = (start: number): void => {
    let isFloat = false;
    let value: number;
    const next = text.charCodeAt(pos + 1) | 0x20;
    if (text.charCodeAt(pos) === CH.zero && (next === 0x78 || next === 0x6f || next === 0x62)) {
      // 0x / 0o / 0b
      const radix = next === 0x78 ? 16 : next === 0x6f ? 8 : 2;
      pos += 2;
      const digitsStart = pos;
      while (pos < end && isHexDigit(text.charCodeAt(pos))) pos++;
      const digits = text.slice(digitsStart, pos);
      value = parseInt(digits, radix);
      if (digits.length === 0 || Number.isNaN(value) || !isValidRadixDigits(digits, radix)) {
        fail(start, `invalid digit for a base ${radix} literal`);
      }
    } else {
      while (pos < end && isDigit(text.charCodeAt(pos))) pos++;
      if (text.charCodeAt(pos) === CH.dot && !isNameStart(text.charCodeAt(pos + 1))) {
        isFloat = true;
        pos++;
        while (pos < end && isDigit(text.charCodeAt(pos))) pos++;
      }
      const e = text.charCodeAt(pos) | 0x20;
      if (e === 0x65) {
        let look = pos + 1;
        const sign = text.charCodeAt(look);
        if (sign === 43 || sign === 45) look++;
        if (isDigit(text.charCodeAt(look))) {
          isFloat = true;
          pos = look;
          while (pos < end && isDigit(text.charCodeAt(pos))) pos++;
        }
      }
      value = Number(text.slice(start, pos));
    }
    const raw = text.slice(start, pos);
    let suffix: NumberSuffix | null = null;
    if (pos < end && isNameStart(text.charCodeAt(pos))) {
      const suffixStart = pos;
      while (pos < end && isNamePart(text.charCodeAt(pos))) pos++;
      const word = text.slice(suffixStart, pos);
      if (!isFloat && SUFFIXES.has(word)) suffix = word as NumberSuffix;
      else if (word.length === 2 && word[1] === 'i' && SUFFIXES.has(word[0] ?? '')) {
        fail(start, 'invalid int binary suffix');
      } else fail(start, `invalid ${isFloat ? 'float' : 'int'} suffix '${word}'`);
    }
    push(TokenKind.Number, raw, start, pos, { numberValue: value, isFloat, suffix });
  };

  const scanString = (start: number, isRaw: boolean): void => {
    const quote = text.charCodeAt(pos);
    const isLong = text.charCodeAt(pos + 1) === quote && text.charCodeAt(pos + 2) === quote;
    pos += isLong ? 3 : 1;
    // A line break right after the opening `"""` is not part of the text, so `"""` on its
    // own line reads like `"""\` with a line continuation.
    if (isLong && isLineBreak(pos)) skipLineBreak();
    const contentStart = pos;
    for (;;) {
      if (pos >= end) fail(start, 'unterminated string literal');
      const code = text.charCodeAt(pos);
      if (code === CH.backslash) {
        // A backslash escapes the next character even in raw strings (as in Python), so
        // r"\"" stays one literal.
        pos += 2;
        continue;
      }
      if (!isLong && (code === CH.lf || code === CH.cr)) fail(start, 'unterminated string literal');
      if (
        code === quote &&
        (!isLong || (text.charCodeAt(pos + 1) === quote && text.charCodeAt(pos + 2) === quote))
      ) {
        break;
      }
      pos++;
    }
    const contentEnd = pos;
    pos += isLong ? 3 : 1;
    if (pos > end) fail(start, 'unterminated string literal');
    push(TokenKind.String, text.slice(start, pos), start, pos, { isRaw, isLong, contentStart, contentEnd });
  };

  while (pos < end) {
    if (atLineStart) {
      atLineStart = false;
      handleIndentation();
      if (pos >= end) break;
    }
    const code = text.charCodeAt(pos);
    if (code === CH.space || code === CH.tab || code === CH.ff) {
      pos++;
      continue;
    }
    if (code === CH.lf || code === CH.cr) {
      skipLineBreak();
      if (lineHasTokens) push(TokenKind.Newline, '', pos - 1, pos - 1);
      lineHasTokens = false;
      atLineStart = true;
      continue;
    }
    if (code === CH.hash) {
      const start = pos;
      while (pos < end && !isLineBreak(pos)) pos++;
      comments.push({ kind: 'Comment', span: source.span(start, pos), text: text.slice(start + 1, pos) });
      continue;
    }
    if (code === CH.backslash) {
      if (pos + 1 >= end) {
        pos++;
        continue;
      }
      if (isLineBreak(pos + 1)) {
        pos++;
        skipLineBreak();
        continue;
      }
      fail(pos, 'unexpected character after line continuation character');
    }
    lineHasTokens = true;
    const start = pos;
    if (code === CH.quote || code === CH.dquote) {
      scanString(start, false);
      continue;
    }
    if (
      (code === 114 || code === 82) &&
      (text.charCodeAt(pos + 1) === CH.quote || text.charCodeAt(pos + 1) === CH.dquote)
    ) {
      pos++;
      scanString(start, true);
      continue;
    }
    if (isDigit(code) || (code === CH.dot && isDigit(text.charCodeAt(pos + 1)))) {
      scanNumber(start);
      continue;
    }
    if (isNameStart(code) || code === CH.dollar) {
      const escaped = code === CH.dollar;
      if (escaped) {
        pos++;
        if (!isNameStart(text.charCodeAt(pos))) fail(start, "'$' must be followed by a name");
      }
      const nameStart = pos;
      while (pos < end && isNamePart(text.charCodeAt(pos))) pos++;
      const name = text.slice(nameStart, pos);
      if (!escaped && KEYWORDS.has(name)) push(TokenKind.Keyword, name, start, pos);
      else push(TokenKind.Name, name, start, pos, escaped ? { escaped } : undefined);
      continue;
    }
    const candidates = PUNCTUATION_BY_CHAR.get(code);
    const punct = candidates?.find(
      (candidate) => text.startsWith(candidate, pos) && pos + candidate.length <= end,
    );
    if (punct === undefined) fail(pos, `unexpected character '${text[pos] ?? ''}'`);
    else {
      pos += punct.length;
      if (code === CH.lparen || code === CH.lbracket || code === CH.lbrace) contexts.push(null);
      else if ((code === CH.rparen || code === CH.rbracket || code === CH.rbrace) && contexts.length > 1) {
        const closed = contexts.pop();
        for (let level = 1; level < (closed?.length ?? 0); level++) push(TokenKind.Dedent, '', start, start);
      }
      push(TokenKind.Punct, punct, start, pos);
    }
  }

  if (lineHasTokens && !expression) push(TokenKind.Newline, '', end, end);
  for (const indents of contexts.reverse()) {
    for (let level = 1; level < (indents?.length ?? 0); level++) push(TokenKind.Dedent, '', end, end);
  }
  push(TokenKind.EOF, '', end, end);
  if (layoutErrors.length > 0) throw new KclDiagnostic(layoutErrors);
  return { tokens, comments };
}

function isValidRadixDigits(digits: string, radix: number): boolean {
  for (let i = 0; i < digits.length; i++) {
    if (parseInt(digits[i] ?? '', 16) >= radix) return false;
  }
  return true;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  $: '$',
};

/**
 * Resolves backslash escapes in `text[start, end)` of a non-raw string. Unknown escapes
 * keep their backslash, as in Python; a backslash before a line break joins the lines.
 */
export function decodeEscapes(text: string, start: number, end: number): string {
  let out = '';
  let pos = start;
  let chunk = start;
  while (pos < end) {
    if (text.charCodeAt(pos) !== CH.backslash || pos + 1 >= end) {
      pos++;
      continue;
    }
    out += text.slice(chunk, pos);
    const next = text[pos + 1] ?? '';
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      pos += 2;
    } else if (next === '\n') {
      pos += 2;
    } else if (next === '\r') {
      pos += text[pos + 2] === '\n' ? 3 : 2;
    } else if (next >= '0' && next <= '7') {
      let digits = '';
      let look = pos + 1;
      while (look < end && digits.length < 3 && (text[look] ?? '') >= '0' && (text[look] ?? '') <= '7') {
        digits += text[look];
        look++;
      }
      out += String.fromCodePoint(parseInt(digits, 8));
      pos = look;
    } else if (next === 'x' || next === 'u' || next === 'U') {
      const width = next === 'x' ? 2 : next === 'u' ? 4 : 8;
      const hex = text.slice(pos + 2, pos + 2 + width);
      const codePoint = parseInt(hex, 16);
      if (hex.length === width && /^[0-9a-fA-F]+$/.test(hex) && codePoint <= 0x10ffff) {
        out += String.fromCodePoint(codePoint);
        pos += 2 + width;
      } else {
        out += '\\';
        pos++;
      }
    } else {
      out += '\\';
      pos++;
    }
    chunk = pos;
  }
  return out + text.slice(chunk, end);
}
