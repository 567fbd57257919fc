import type { NumberSuffix } from './ast.ts';

/** Token categories; operators and keywords are told apart by `value`. */
export const TokenKind = {
  EOF: 0,
  Newline: 1,
  Indent: 2,
  Dedent: 3,
  /** Identifiers, including soft keywords such as `rule`, `type`, `check`, `all`. */
  Name: 4,
  /** Reserved words, see KEYWORDS. */
  Keyword: 5,
  Number: 6,
  String: 7,
  /** Operators and delimiters. */
  Punct: 8,
} as const;

export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

/** Words that can never be names (unless written `$word`). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'True',
  'False',
  'None',
  'Undefined',
  'import',
  'as',
  'schema',
  'if',
  'elif',
  'else',
  'for',
  'in',
  'is',
  'and',
  'or',
  'not',
  'assert',
  'lambda',
]);

export interface Token {
  kind: TokenKind;
  /** Punctuation or keyword text; the name (without `$`) for names; the raw text otherwise. */
  value: string;
  /** Offsets into the source, end exclusive. */
  start: number;
  end: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** A name written with the `$` escape, never a keyword. */
  escaped?: boolean;
  /** Numbers: the digits as written without suffix, their value, and the unit suffix. */
  numberValue?: number;
  isFloat?: boolean;
  suffix?: NumberSuffix | null;
  /** Strings: flags, and the offsets of the text between the quotes. */
  isRaw?: boolean;
  isLong?: boolean;
  contentStart?: number;
  contentEnd?: number;
}

/** How a token is named in "expected one of ... got X" messages, matching the official wording. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case TokenKind.EOF:
      return 'eof';
    case TokenKind.Newline:
      return 'newline';
    case TokenKind.Indent:
      return 'indent';
    case TokenKind.Dedent:
      return 'dedent';
    case TokenKind.Name:
    case TokenKind.Keyword:
      return 'identifier';
    case TokenKind.Number:
    case TokenKind.String:
      return 'literal';
    default:
      return token.value;
  }
}
