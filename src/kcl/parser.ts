import type * as ast from './ast.ts';
import { KclDiagnostic, kclError } from './diagnostics.ts';
import type { DiagnosticEntry } from './diagnostics.ts';
import { decodeEscapes, scan } from './scanner.ts';
import { SourceFile } from './source.ts';
import { TokenKind, describeToken } from './tokens.ts';
import type { Token } from './tokens.ts';

/**
 * Recursive-descent parser for KCL. Statements are layout-sensitive (NEWLINE, INDENT,
 * DEDENT); inside brackets layout tokens are skipped, except where KCL gives them meaning
 * again: lambda bodies and `if` blocks in lists and configs. Syntax errors are diagnostics
 * of kind InvalidSyntax. Like the official parser, it reads past a stray token after a
 * statement and an operand missing at the end of a line, so that the checker still sees
 * the statements; other errors are thrown, after those read past.
 */

/** Parses a whole file. */
export function parseModule(text: string, file: string): ast.Module {
  const source = new SourceFile(file, text);
  const scanned = scan(source);
  const parser = new Parser(source, scanned.tokens, true);
  let body: ast.Stmt[];
  try {
    body = parser.parseStatements(false, false);
  } catch (error) {
    // An error the parser cannot read past comes after those it read past.
    if (error instanceof KclDiagnostic && parser.recovered.length > 0)
      throw new KclDiagnostic([...parser.recovered, ...error.entries]);
    throw error;
  }
  const first = body[0];
  const docstring = first?.kind === 'ExprStmt' && first.expr.kind === 'StringLit' ? first.expr.value : null;
  return {
    kind: 'Module',
    span: source.span(0, text.length),
    file,
    docstring,
    body,
    comments: scanned.comments,
    syntaxErrors: parser.recovered,
  };
}

/** Parses a single expression, e.g. a `-D key=value` value or a test snippet. */
export function parseExpression(text: string, file = '<expr>'): ast.Expr {
  const source = new SourceFile(file, text);
  return parseExpressionRange(source, 0, text.length);
}

function parseExpressionRange(source: SourceFile, start: number, end: number): ast.Expr {
  const { tokens } = scan(source, { start, end, expression: true });
  const parser = new Parser(source, tokens, false);
  const expr = parser.parseTest();
  parser.expectEnd();
  return expr;
}

const QUANTIFIERS: ReadonlySet<string> = new Set(['all', 'any', 'map', 'filter']);
const AUG_OPS: ReadonlySet<string> = new Set([
  '+=',
  '-=',
  '*=',
  '/=',
  '//=',
  '%=',
  '**=',
  '<<=',
  '>>=',
  '&=',
  '|=',
  '^=',
]);
const COMPARE_OPS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);
const BASIC_TYPES: ReadonlySet<string> = new Set(['bool', 'int', 'float', 'str']);
const NAME_CONSTANTS: ReadonlySet<string> = new Set(['True', 'False', 'None', 'Undefined']);
/** Expression names as the official tool prints them in messages. */
const OFFICIAL_EXPRESSION_NAMES: Record<ast.Expr['kind'], string> = {
  Identifier: 'Identifier',
  NumberLit: 'NumberLiteral',
  StringLit: 'StringLiteral',
  InterpolatedString: 'JoinedString',
  NameConstant: 'NameConstantLiteral',
  UnaryExpr: 'UnaryExpression',
  BinaryExpr: 'BinaryExpression',
  CompareExpr: 'CompareExpression',
  IfExpr: 'IfExpression',
  AsExpr: 'BinaryExpression',
  SelectorExpr: 'SelectorExpression',
  SubscriptExpr: 'SubscriptExpression',
  SliceExpr: 'SubscriptExpression',
  CallExpr: 'CallExpression',
  ParenExpr: 'ParenExpression',
  ListExpr: 'ListExpression',
  ListIfItem: 'ListIfItemExpression',
  StarredExpr: 'StarredExpression',
  ListComp: 'ListComprehension',
  DictComp: 'DictComprehension',
  ConfigExpr: 'ConfigExpression',
  SchemaExpr: 'SchemaExpression',
  QuantExpr: 'QuantExpression',
  LambdaExpr: 'LambdaExpression',
  MissingExpr: 'MissingExpression',
};
const MAX_NESTING = 200;
const LINE_ITEM_PREFIXES: ReadonlySet<string> = new Set(['*', '**', '+', '-']);
const EXPRESSION_START = 'expected one of ["identifier", "literal", "(", "[", "{"]';

/** Binary operator levels, lowest first; each level is left-associative. */
const BINARY_LEVELS: readonly (readonly ast.BinaryOp[])[] = [
  ['|'],
  ['^'],
  ['&'],
  ['<<', '>>'],
  ['+', '-'],
  ['*', '/', '//', '%'],
];

interface StatementContext {
  /** Inside a schema body, where `name: T` declares an attribute. */
  inSchema: boolean;
}

class Parser {
  private readonly source: SourceFile;
  private readonly tokens: Token[];
  private index = 0;
  /** Whether NEWLINE/INDENT/DEDENT are significant here (statements) or skipped (inside brackets). */
  private layout: boolean;
  private previous: Token | undefined;
  private lineItems = false;
  private depth = 0;
  /** Errors reported without stopping the parse. */
  readonly recovered: DiagnosticEntry[] = [];

  constructor(source: SourceFile, tokens: Token[], layout: boolean) {
    this.source = source;
    this.tokens = tokens;
    this.layout = layout;
  }

  // -------------------------------------------------------------------------------------
  // Token access

  private raw(offset = 0): Token {
    const tokens = this.tokens;
    return tokens[Math.min(this.index + offset, tokens.length - 1)] as Token;
  }

  private peekIndex(): number {
    let i = this.index;
    if (!this.layout) {
      while (i < this.tokens.length - 1 && isLayout(this.tokens[i] as Token)) i++;
    }
    return i;
  }

  private peek(): Token {
    return this.tokens[this.peekIndex()] as Token;
  }

  /** The significant token after the next one. */
  private peekSecond(): Token {
    let i = this.peekIndex() + 1;
    while (i < this.tokens.length - 1 && isLayout(this.tokens[i] as Token)) i++;
    return this.tokens[Math.min(i, this.tokens.length - 1)] as Token;
  }

  private advance(): Token {
    const i = this.peekIndex();
    const token = this.tokens[i] as Token;
    this.index = Math.min(i + 1, this.tokens.length - 1);
    if (token.kind !== TokenKind.EOF) this.previous = token;
    return token;
  }

  private isPunct(value: string, token: Token = this.peek()): boolean {
    return token.kind === TokenKind.Punct && token.value === value;
  }

  private isKeyword(value: string, token: Token = this.peek()): boolean {
    return token.kind === TokenKind.Keyword && token.value === value;
  }

  /** A name used as a soft keyword (`rule`, `type`, `check`, ...), not `$`-escaped. */
  private isSoftKeyword(value: string, token: Token = this.peek()): boolean {
    return token.kind === TokenKind.Name && token.value === value && !token.escaped;
  }

  private eatPunct(value: string): boolean {
    if (!this.isPunct(value)) return false;
    this.advance();
    return true;
  }

  private expectPunct(value: string): Token {
    if (!this.isPunct(value)) this.failExpected([value]);
    return this.advance();
  }

  private expectKeyword(value: string): Token {
    if (!this.isKeyword(value)) this.failExpected([value]);
    return this.advance();
  }

  private expectName(): Token {
    const token = this.peek();
    if (token.kind !== TokenKind.Name) this.failExpected(['identifier']);
    return this.advance();
  }

  /** True when the token starts a new line relative to the previous token. */
  private onNewLine(token: Token): boolean {
    return this.previous !== undefined && token.line > this.previous.endLine;
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== TokenKind.EOF) this.fail(token, `unexpected token '${describeToken(token)}'`);
  }

  // -------------------------------------------------------------------------------------
  // Errors and spans

  private fail(token: Token, message: string): never {
    throw this.errorAt(token, message);
  }

  private errorAt(token: Token, message: string): KclDiagnostic {
    const file = this.source.file;
    if (token.kind === TokenKind.Dedent)
      return kclError('InvalidSyntax', { file, line: token.line, column: null, message });
    if ((token.kind === TokenKind.Newline || token.kind === TokenKind.EOF) && this.previous) {
      // The official parser reports a missing token at the last character before the line break.
      const at = Math.max(this.previous.start, this.previous.end - 1);
      const line = this.source.lineOf(at);
      return kclError('InvalidSyntax', { file, line, column: this.source.columnOf(at, line), message });
    }
    return kclError('InvalidSyntax', { file, line: token.line, column: token.column, message });
  }

  private failExpected(expected: string[]): never {
    const token = this.peek();
    const list = expected.map((item) => JSON.stringify(item)).join(', ');
    this.fail(token, `expected one of [${list}] got ${describeToken(token)}`);
  }

  private spanFrom(start: Token | number): ast.Span {
    const startOffset = typeof start === 'number' ? start : start.start;
    const end = this.previous ? Math.max(this.previous.end, startOffset) : startOffset;
    return this.source.span(startOffset, end);
  }

  // -------------------------------------------------------------------------------------
  // Statements

  /**
   * Statements up to the end of the file, a DEDENT (`inBlock`) or a `}` (lambda body);
   * the terminator is not consumed.
   */
  parseStatements(
    inBlock: boolean,
    inBraces: boolean,
    context: StatementContext = { inSchema: false },
  ): ast.Stmt[] {
    const body: ast.Stmt[] = [];
    for (;;) {
      const token = this.raw();
      if (token.kind === TokenKind.Newline || this.isPunct(';', token)) {
        this.index++;
        continue;
      }
      if (token.kind === TokenKind.EOF) {
        if (inBlock || inBraces) this.fail(token, `unexpected token '${describeToken(token)}'`);
        break;
      }
      if (token.kind === TokenKind.Dedent) {
        if (inBlock) break;
        this.fail(token, "unexpected token 'dedent'");
      }
      if (inBraces && this.isPunct('}', token)) break;
      if (token.kind === TokenKind.Indent) this.fail(token, "unexpected token 'indent'");
      body.push(this.parseStatement(context));
    }
    return body;
  }

  /** A `:`-introduced suite: an indented block, or one simple statement on the same line. */
  private parseSuite(context: StatementContext): ast.Stmt[] {
    if (this.raw().kind !== TokenKind.Newline) return [this.parseSimpleStatement(context)];
    while (this.raw().kind === TokenKind.Newline) this.index++;
    const indent = this.raw();
    if (indent.kind !== TokenKind.Indent)
      this.fail(indent, `expected one of ["indent"] got ${describeToken(indent)}`);
    this.index++;
    const body = this.nested(() => this.parseStatements(true, false, context));
    this.index++; // the DEDENT
    return body;
  }

  private parseStatement(context: StatementContext): ast.Stmt {
    const token = this.raw();
    if (this.isPunct('@', token)) return this.parseDecorated(context);
    if (this.isKeyword('import', token)) return this.parseImport();
    if (this.isKeyword('schema', token)) return this.parseSchema('schema', []);
    if (
      (this.isSoftKeyword('mixin', token) || this.isSoftKeyword('protocol', token)) &&
      this.raw(1).kind === TokenKind.Name
    ) {
      return this.parseSchema(token.value as 'mixin' | 'protocol', []);
    }
    if (this.isSoftKeyword('rule', token) && this.raw(1).kind === TokenKind.Name) return this.parseRule([]);
    if (
      this.isSoftKeyword('type', token) &&
      this.raw(1).kind === TokenKind.Name &&
      this.isPunct('=', this.raw(2))
    ) {
      return this.parseTypeAlias();
    }
    if (this.isKeyword('if', token)) return this.parseIf(context);
    return this.parseSimpleStatement(context);
  }

  private endSimpleStatement(): void {
    const token = this.raw();
    if (token.kind === TokenKind.Newline || this.isPunct(';', token)) {
      this.index++;
      return;
    }
    if (token.kind === TokenKind.EOF || token.kind === TokenKind.Dedent || this.isPunct('}', token)) return;
    // `a, b = 1, 2`: the token is reported and skipped; the rest of the line is read as statements.
    this.recovered.push(...this.errorAt(token, `unexpected token '${describeToken(token)}'`).entries);
    this.index++;
  }

  private parseSimpleStatement(context: StatementContext): ast.Stmt {
    const start = this.peek();
    const stmt = this.isKeyword('assert', start)
      ? this.parseAssert()
      : this.parseExpressionStatement(context);
    this.endSimpleStatement();
    return stmt;
  }

  private parseAssert(): ast.AssertStmt {
    const start = this.advance();
    const { test, ifCond, msg } = this.parseCheckParts();
    return { kind: 'AssertStmt', span: this.spanFrom(start), test, ifCond, msg };
  }

  /** `test [if cond] [, msg]`, shared by assert and check blocks. */
  private parseCheckParts(): { test: ast.Expr; ifCond: ast.Expr | null; msg: ast.Expr | null } {
    const { test, ifCond } = this.parseGuardedTest();
    const msg = this.eatPunct(',') ? this.parseTest() : null;
    return { test, ifCond, msg };
  }

  /** `test [if cond]`, as assert, check blocks and quantifier bodies write it. */
  private parseGuardedTest(): { test: ast.Expr; ifCond: ast.Expr | null } {
    const start = this.peek();
    let test = this.parseOrTest();
    let ifCond: ast.Expr | null = null;
    if (this.isKeyword('if')) {
      this.advance();
      ifCond = this.parseOrTest();
      if (this.isKeyword('else')) {
        // It was a conditional expression after all: `a if b else c [if cond]`.
        this.advance();
        const orelse = this.parseTest();
        test = { kind: 'IfExpr', span: this.spanFrom(start), body: test, cond: ifCond, orelse };
        ifCond = null;
        if (this.isKeyword('if')) {
          this.advance();
          ifCond = this.parseOrTest();
        }
      }
    }
    return { test, ifCond };
  }

  private parseExpressionStatement(context: StatementContext): ast.Stmt {
    const start = this.peek();
    const expr = this.parseTest();
    const next = this.raw();
    const isName = expr.kind === 'Identifier' || (context.inSchema && expr.kind === 'StringLit');
    if (isName && (this.isPunct(':', next) || (this.isPunct('?', next) && this.isPunct(':', this.raw(1))))) {
      return this.parseDeclaration(start, expr as ast.Identifier | ast.StringLit, context, []);
    }
    if (this.isPunct('=', next)) {
      const targets = [this.toTarget(expr)];
      let value: ast.Expr = expr;
      while (this.eatPunct('=')) {
        value = this.parseTest();
        if (this.isPunct('=')) targets.push(this.toTarget(value));
      }
      return { kind: 'AssignStmt', span: this.spanFrom(start), targets, type: null, value };
    }
    if (next.kind === TokenKind.Punct && AUG_OPS.has(next.value)) {
      this.advance();
      const value = this.parseTest();
      return {
        kind: 'AugAssignStmt',
        span: this.spanFrom(start),
        target: this.toTarget(expr),
        op: next.value as ast.AugOp,
        value,
      };
    }
    return { kind: 'ExprStmt', span: this.spanFrom(start), expr };
  }

  /** `name[?]: T [= value]` (attribute or typed assignment) and `name: Schema {...}` (unification). */
  private parseDeclaration(
    start: Token,
    nameExpr: ast.Identifier | ast.StringLit,
    context: StatementContext,
    decorators: ast.Decorator[],
  ): ast.Stmt {
    const name = nameExpr.kind === 'Identifier' ? nameExpr.name : nameExpr.value;
    const optional = this.eatPunct('?');
    this.expectPunct(':');
    const typeStart = this.peek();
    const type = this.parseType();
    const next = this.raw();
    if (type.kind === 'NamedType' && !optional && (this.isPunct('{', next) || this.isPunct('(', next))) {
      const qualified: ast.QualifiedName = { kind: 'QualifiedName', span: type.span, names: type.names };
      const value = this.parseSchemaExpr(typeStart, qualified);
      const target: ast.Identifier = { kind: 'Identifier', span: nameExpr.span, name };
      return { kind: 'UnificationStmt', span: this.spanFrom(start), target, value };
    }
    if (context.inSchema) {
      let op: ast.SchemaAttr['op'] = null;
      let value: ast.Expr | null = null;
      if (next.kind === TokenKind.Punct && (next.value === '=' || AUG_OPS.has(next.value))) {
        this.advance();
        op = next.value as ast.SchemaAttr['op'];
        value = this.parseTest();
      }
      return {
        kind: 'SchemaAttr',
        span: this.spanFrom(start),
        name,
        nameSpan: nameExpr.span,
        type,
        optional,
        op,
        value,
        decorators,
      };
    }
    if (optional || nameExpr.kind !== 'Identifier')
      this.fail(start, 'optional attributes are only allowed in schemas');
    this.expectPunct('=');
    const value = this.parseTest();
    const target: ast.Target = { kind: 'Target', span: nameExpr.span, name, path: [] };
    return { kind: 'AssignStmt', span: this.spanFrom(start), targets: [target], type, value };
  }

  private toTarget(expr: ast.Expr): ast.Target {
    const path: ast.TargetStep[] = [];
    let current = expr;
    for (;;) {
      if (current.kind === 'SelectorExpr' && !current.optional) {
        path.unshift({ kind: 'member', name: current.attr, span: current.span });
        current = current.value;
      } else if (current.kind === 'SubscriptExpr' && !current.optional) {
        path.unshift({ kind: 'index', index: current.index, span: current.span });
        current = current.value;
      } else break;
    }
    if (current.kind !== 'Identifier') {
      const illegal = current === expr ? expr : current;
      const reason =
        illegal.kind === 'SliceExpr'
          ? ', because the left-hand side of an assignment expression may not be a slice access'
          : '';
      throw kclError('InvalidSyntax', {
        file: this.source.file,
        line: illegal.span.line,
        column: illegal.span.column,
        message: `'${OFFICIAL_EXPRESSION_NAMES[illegal.kind]}' is an illegal expression for assignment${reason}`,
      });
    }
    return { kind: 'Target', span: expr.span, name: current.name, path };
  }

  private parseImport(): ast.ImportStmt {
    const start = this.advance();
    let path = '';
    while (this.isPunct('.') || this.isPunct('...')) path += this.advance().value;
    path += this.expectName().value;
    while (this.eatPunct('.')) path += '.' + this.expectName().value;
    let asName: string | null = null;
    if (this.isKeyword('as')) {
      this.advance();
      asName = this.expectName().value;
    }
    this.endSimpleStatement();
    const name = asName ?? path.slice(path.lastIndexOf('.') + 1);
    return { kind: 'ImportStmt', span: this.spanFrom(start), path, asName, name };
  }

  private parseTypeAlias(): ast.TypeAliasStmt {
    const start = this.advance();
    const nameToken = this.expectName();
    this.expectPunct('=');
    const type = this.parseType();
    this.endSimpleStatement();
    return {
      kind: 'TypeAliasStmt',
      span: this.spanFrom(start),
      name: nameToken.value,
      nameSpan: this.source.span(nameToken.start, nameToken.end),
      type,
    };
  }

  private parseIf(context: StatementContext): ast.IfStmt {
    const start = this.advance();
    const cond = this.parseTest();
    this.expectPunct(':');
    const body = this.parseSuite(context);
    let orelse: ast.Stmt[] = [];
    const next = this.raw();
    if (this.isKeyword('elif', next)) {
      orelse = [this.nested(() => this.parseIf(context))];
    } else if (this.isKeyword('else', next)) {
      if (this.isKeyword('if', this.raw(1))) {
        throw kclError('InvalidSyntax', {
          file: this.source.file,
          line: next.line,
          column: null,
          message: "'else if' here is invalid in KCL, consider using the 'elif' keyword",
        });
      }
      this.advance();
      this.expectPunct(':');
      orelse = this.parseSuite(context);
    }
    return { kind: 'IfStmt', span: this.spanFrom(start), cond, body, orelse };
  }

  private parseDecorator(): ast.Decorator {
    const start = this.expectPunct('@');
    const name = this.parseQualifiedName();
    let args: ast.Expr[] | null = null;
    let keywords: ast.Keyword[] = [];
    if (this.isPunct('(')) ({ args, keywords } = this.parseCallArguments());
    const decorator: ast.Decorator = { kind: 'Decorator', span: this.spanFrom(start), name, args, keywords };
    this.endSimpleStatement();
    return decorator;
  }

  private parseDecorated(context: StatementContext): ast.Stmt {
    const decorators: ast.Decorator[] = [];
    while (this.isPunct('@', this.raw())) {
      decorators.push(this.parseDecorator());
      while (this.raw().kind === TokenKind.Newline) this.index++;
    }
    const token = this.raw();
    if (this.isKeyword('schema', token)) return this.parseSchema('schema', decorators);
    if (
      (this.isSoftKeyword('mixin', token) || this.isSoftKeyword('protocol', token)) &&
      this.raw(1).kind === TokenKind.Name
    ) {
      return this.parseSchema(token.value as 'mixin' | 'protocol', decorators);
    }
    if (this.isSoftKeyword('rule', token)) return this.parseRule(decorators);
    if (context.inSchema && (token.kind === TokenKind.Name || token.kind === TokenKind.String)) {
      const start = this.peek();
      const nameExpr = this.parseAtom();
      if (nameExpr.kind === 'Identifier' || nameExpr.kind === 'StringLit') {
        const stmt = this.parseDeclaration(start, nameExpr, context, decorators);
        this.endSimpleStatement();
        return stmt;
      }
    }
    this.fail(token, 'decorators can only be applied to schemas, rules and schema attributes');
  }

  private parseQualifiedName(): ast.QualifiedName {
    const start = this.expectName();
    const names = [start.value];
    while (this.isPunct('.') && this.peekSecond().kind === TokenKind.Name) {
      this.advance();
      names.push(this.advance().value);
    }
    return { kind: 'QualifiedName', span: this.spanFrom(start), names };
  }

  private parseParameters(close: string): ast.Parameter[] {
    const params: ast.Parameter[] = [];
    while (!this.isPunct(close)) {
      const start = this.expectName();
      const type = this.eatPunct(':') ? this.parseType() : null;
      const value = this.eatPunct('=') ? this.parseTest() : null;
      params.push({ kind: 'Parameter', span: this.spanFrom(start), name: start.value, type, default: value });
      if (!this.eatPunct(',')) break;
    }
    return params;
  }

  /** The `[x: T = default, …]` of a schema or rule header, when there is one. */
  private parseOptionalHeaderParameters(): ast.Parameter[] {
    if (!this.eatPunct('[')) return [];
    return this.withLayout(false, () => {
      const list = this.parseParameters(']');
      this.expectPunct(']');
      return list;
    });
  }

  /** `schema`/`mixin`/`protocol` with the header and body. */
  private parseSchema(flavor: ast.SchemaStmt['flavor'], decorators: ast.Decorator[]): ast.SchemaStmt {
    const start = this.advance();
    const nameToken = this.expectName();
    const params = this.parseOptionalHeaderParameters();
    let parent: ast.QualifiedName | null = null;
    if (this.eatPunct('(')) {
      parent = this.withLayout(false, () => {
        const name = this.parseQualifiedName();
        this.expectPunct(')');
        return name;
      });
    }
    let forHost: ast.QualifiedName | null = null;
    if (this.isKeyword('for')) {
      this.advance();
      forHost = this.parseQualifiedName();
    }
    this.expectPunct(':');
    const schema: ast.SchemaStmt = {
      kind: 'SchemaStmt',
      span: this.spanFrom(start),
      flavor,
      name: nameToken.value,
      nameSpan: this.source.span(nameToken.start, nameToken.end),
      docstring: null,
      params,
      parent,
      forHost,
      mixins: [],
      decorators,
      body: [],
      indexSignature: null,
      checks: [],
    };
    this.parseSchemaBody(schema);
    schema.span = this.spanFrom(start);
    return schema;
  }

  private parseSchemaBody(schema: ast.SchemaStmt): void {
    if (this.raw().kind !== TokenKind.Newline) {
      schema.body.push(this.parseSimpleStatement({ inSchema: true }));
      return;
    }
    while (this.raw().kind === TokenKind.Newline) this.index++;
    if (this.raw().kind !== TokenKind.Indent) return;
    this.index++;
    schema.docstring = this.parseDocstring();
    for (;;) {
      const token = this.raw();
      if (token.kind === TokenKind.Newline || this.isPunct(';', token)) {
        this.index++;
        continue;
      }
      if (token.kind === TokenKind.Dedent) {
        this.index++;
        return;
      }
      if (token.kind === TokenKind.EOF) return;
      if (token.kind === TokenKind.Indent) this.fail(token, "unexpected token 'indent'");
      if (this.isSoftKeyword('mixin', token) && this.isPunct('[', this.raw(1))) {
        schema.mixins.push(...this.parseMixins());
      } else if (this.isPunct('[', token) && this.isPunct(':', this.afterBrackets(this.index))) {
        if (schema.indexSignature) {
          // Reported, and the later signature is kept, as the official parser does.
          const message = 'duplicate schema index signature definitions, only one is allowed in the schema';
          this.recovered.push(...this.errorAt(token, message).entries);
        }
        schema.indexSignature = this.parseIndexSignature();
      } else if (this.isSoftKeyword('check', token) && this.isPunct(':', this.raw(1))) {
        this.index += 2;
        schema.checks.push(...this.parseCheckBlock(false).checks);
      } else {
        schema.body.push(this.parseStatement({ inSchema: true }));
      }
    }
  }

  /** A string literal on its own line at the start of a body. */
  private parseDocstring(): string | null {
    const token = this.raw();
    const after = this.raw(1);
    if (
      token.kind !== TokenKind.String ||
      (after.kind !== TokenKind.Newline && after.kind !== TokenKind.Dedent)
    )
      return null;
    const literal = this.parseAtom();
    this.endSimpleStatement();
    return literal.kind === 'StringLit' ? literal.value : null;
  }

  private parseMixins(): ast.QualifiedName[] {
    this.advance();
    this.expectPunct('[');
    const mixins = this.withLayout(false, () => {
      const names: ast.QualifiedName[] = [];
      while (!this.isPunct(']')) {
        names.push(this.parseQualifiedName());
        if (!this.eatPunct(',')) break;
      }
      this.expectPunct(']');
      return names;
    });
    this.endSimpleStatement();
    return mixins;
  }

  private parseIndexSignature(): ast.IndexSignature {
    const start = this.advance();
    const header = this.withLayout(false, () => {
      const anyOther = this.eatPunct('...');
      let keyName: string | null = null;
      if (!anyOther && this.peek().kind === TokenKind.Name && this.isPunct(':', this.peekSecond())) {
        keyName = this.advance().value;
        this.advance();
      }
      const keyType = this.parseType();
      this.expectPunct(']');
      return { anyOther, keyName, keyType };
    });
    this.expectPunct(':');
    const valueType = this.parseType();
    const value = this.eatPunct('=') ? this.parseTest() : null;
    this.endSimpleStatement();
    return { kind: 'IndexSignature', span: this.spanFrom(start), ...header, valueType, value };
  }

  /** The body of `check:` or of a rule; only a rule may start with a docstring. */
  private parseCheckBlock(withDocstring: boolean): { docstring: string | null; checks: ast.CheckExpr[] } {
    const checks: ast.CheckExpr[] = [];
    if (this.raw().kind !== TokenKind.Newline) {
      checks.push(this.parseCheckExpr());
      return { docstring: null, checks };
    }
    while (this.raw().kind === TokenKind.Newline) this.index++;
    const indent = this.raw();
    if (indent.kind !== TokenKind.Indent)
      this.fail(indent, `expected one of ["indent"] got ${describeToken(indent)}`);
    this.index++;
    const docstring = withDocstring ? this.parseDocstring() : null;
    for (;;) {
      const token = this.raw();
      if (token.kind === TokenKind.Newline) {
        this.index++;
        continue;
      }
      if (token.kind === TokenKind.Dedent || token.kind === TokenKind.EOF) break;
      checks.push(this.parseCheckExpr());
    }
    this.index++;
    return { docstring, checks };
  }

  /** One check expression; like the official parser, several may share a line (`a not None` is `a` and `not None`). */
  private parseCheckExpr(): ast.CheckExpr {
    const start = this.peek();
    const parts = this.parseCheckParts();
    const next = this.raw();
    if (next.kind === TokenKind.Newline || this.isPunct(';', next)) this.index++;
    return { kind: 'CheckExpr', span: this.spanFrom(start), ...parts };
  }

  private parseRule(decorators: ast.Decorator[]): ast.RuleStmt {
    const start = this.advance();
    const nameToken = this.expectName();
    const params = this.parseOptionalHeaderParameters();
    const parents: ast.QualifiedName[] = [];
    if (this.eatPunct('(')) {
      this.withLayout(false, () => {
        while (!this.isPunct(')')) {
          parents.push(this.parseQualifiedName());
          if (!this.eatPunct(',')) break;
        }
        this.expectPunct(')');
      });
    }
    let forHost: ast.QualifiedName | null = null;
    if (this.isKeyword('for')) {
      this.advance();
      forHost = this.parseQualifiedName();
    }
    this.expectPunct(':');
    const { docstring, checks } = this.parseCheckBlock(true);
    return {
      kind: 'RuleStmt',
      span: this.spanFrom(start),
      name: nameToken.value,
      nameSpan: this.source.span(nameToken.start, nameToken.end),
      docstring,
      params,
      parents,
      forHost,
      decorators,
      checks,
    };
  }

  /**
   * Runs `parse` with layout tokens significant or skipped. `lineItems` marks list and
   * config bodies, where a line starting with `*`, `**`, `+` or `-` begins a new item
   * (`*xs`, `**base`, `-1`) rather than continuing the previous line's expression.
   */
  private withLayout<T>(layout: boolean, parse: () => T, lineItems = false): T {
    const savedLayout = this.layout;
    const savedLineItems = this.lineItems;
    this.layout = layout;
    this.lineItems = lineItems;
    try {
      return parse();
    } finally {
      this.layout = savedLayout;
      this.lineItems = savedLineItems;
    }
  }

  private startsNewItem(operator: Token): boolean {
    return this.lineItems && LINE_ITEM_PREFIXES.has(operator.value) && this.onNewLine(operator);
  }

  // -------------------------------------------------------------------------------------
  // Expressions

  parseTest(): ast.Expr {
    const start = this.peek();
    const body = this.parseOrTest();
    // An `if` on a new line starts a list or config `if` item instead.
    if (!this.isKeyword('if') || this.onNewLine(this.peek())) return body;
    this.advance();
    const cond = this.parseOrTest();
    this.expectKeyword('else');
    const orelse = this.parseTest();
    return { kind: 'IfExpr', span: this.spanFrom(start), body, cond, orelse };
  }

  private parseOrTest(noBrace = false): ast.Expr {
    return this.nested(() => {
      const start = this.peek();
      let left = this.parseAndTest(noBrace);
      while (this.isKeyword('or')) {
        this.advance();
        const right = this.parseAndTest(noBrace);
        left = { kind: 'BinaryExpr', span: this.spanFrom(start), op: 'or', left, right };
      }
      return left;
    });
  }

  /** Bounds recursion so absurdly nested input is a syntax error rather than a stack overflow. */
  private nested<T>(parse: () => T): T {
    if (this.depth >= MAX_NESTING)
      this.fail(this.peek(), `expression nested more than ${MAX_NESTING} levels deep`);
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private parseAndTest(noBrace: boolean): ast.Expr {
    const start = this.peek();
    let left = this.parseNotTest(noBrace);
    while (this.isKeyword('and')) {
      this.advance();
      const right = this.parseNotTest(noBrace);
      left = { kind: 'BinaryExpr', span: this.spanFrom(start), op: 'and', left, right };
    }
    return left;
  }

  private parseNotTest(noBrace: boolean): ast.Expr {
    const start = this.peek();
    if (this.isKeyword('not', start)) {
      this.advance();
      const operand = this.nested(() => this.parseNotTest(noBrace));
      return { kind: 'UnaryExpr', span: this.spanFrom(start), op: 'not', operand };
    }
    return this.parseComparison(noBrace);
  }

  private parseComparison(noBrace: boolean): ast.Expr {
    const start = this.peek();
    const left = this.parseAs(noBrace);
    const ops: ast.CompareOp[] = [];
    const comparators: ast.Expr[] = [];
    for (;;) {
      const token = this.peek();
      let op: ast.CompareOp | null = null;
      if (token.kind === TokenKind.Punct && COMPARE_OPS.has(token.value)) op = token.value as ast.CompareOp;
      else if (this.isKeyword('in', token)) op = 'in';
      else if (this.isKeyword('not', token) && this.isKeyword('in', this.peekSecond())) op = 'not in';
      else if (this.isKeyword('is', token)) op = this.isKeyword('not', this.peekSecond()) ? 'is not' : 'is';
      if (op === null) break;
      this.advance();
      if (op === 'not in' || op === 'is not') this.advance();
      ops.push(op);
      comparators.push(this.parseAs(noBrace));
    }
    if (ops.length === 0) return left;
    return { kind: 'CompareExpr', span: this.spanFrom(start), left, ops, comparators };
  }

  private parseAs(noBrace: boolean): ast.Expr {
    const start = this.peek();
    let value = this.parseBinary(0, noBrace);
    while (this.isKeyword('as')) {
      this.advance();
      const type = this.parseType();
      value = { kind: 'AsExpr', span: this.spanFrom(start), value, type };
    }
    return value;
  }

  private parseBinary(level: number, noBrace: boolean): ast.Expr {
    const ops = BINARY_LEVELS[level];
    if (!ops) return this.parseFactor(noBrace);
    const start = this.peek();
    let left = this.parseBinary(level + 1, noBrace);
    for (;;) {
      const token = this.peek();
      if (
        token.kind !== TokenKind.Punct ||
        !ops.includes(token.value as ast.BinaryOp) ||
        this.startsNewItem(token)
      )
        break;
      this.advance();
      const right = this.parseBinary(level + 1, noBrace);
      left = { kind: 'BinaryExpr', span: this.spanFrom(start), op: token.value as ast.BinaryOp, left, right };
    }
    return left;
  }

  private parseFactor(noBrace: boolean): ast.Expr {
    const start = this.peek();
    if (this.isPunct('+', start) || this.isPunct('-', start) || this.isPunct('~', start)) {
      this.advance();
      const operand = this.nested(() => this.parseFactor(noBrace));
      return { kind: 'UnaryExpr', span: this.spanFrom(start), op: start.value as ast.UnaryOp, operand };
    }
    const base = this.parsePrimary(noBrace);
    if (!this.isPunct('**') || this.startsNewItem(this.peek())) return base;
    this.advance();
    const exponent = this.nested(() => this.parseFactor(noBrace));
    return { kind: 'BinaryExpr', span: this.spanFrom(start), op: '**', left: base, right: exponent };
  }

  private parsePrimary(noBrace: boolean): ast.Expr {
    const start = this.peek();
    let expr = this.parseAtom();
    for (;;) {
      const token = this.peek();
      if (this.isPunct('.', token)) {
        this.advance();
        const attr = this.expectAttributeName();
        expr = { kind: 'SelectorExpr', span: this.spanFrom(start), value: expr, attr, optional: false };
      } else if (this.isPunct('?', token) && this.isAdjacentOptional(token)) {
        this.advance();
        if (this.eatPunct('.')) {
          const attr = this.expectAttributeName();
          expr = { kind: 'SelectorExpr', span: this.spanFrom(start), value: expr, attr, optional: true };
        } else expr = this.parseSubscript(start, expr, true);
      } else if (this.onNewLine(token)) {
        break;
      } else if (this.isPunct('[', token)) {
        expr = this.parseSubscript(start, expr, false);
      } else if (this.isPunct('(', token)) {
        const { args, keywords } = this.parseCallArguments();
        expr = { kind: 'CallExpr', span: this.spanFrom(start), func: expr, args, keywords };
      } else if (this.isPunct('{', token) && !noBrace && isSchemaName(expr)) {
        const name = toQualifiedName(expr.kind === 'CallExpr' ? expr.func : expr);
        const schema = this.parseSchemaExpr(start, name, expr.kind === 'CallExpr' ? expr : null);
        expr = schema;
      } else break;
    }
    return expr;
  }

  /** `?.` and `?[` are written without space; a lone `?` belongs to `name?: T`. */
  private isAdjacentOptional(question: Token): boolean {
    const next = this.peekSecond();
    return next.start === question.end && (this.isPunct('.', next) || this.isPunct('[', next));
  }

  private expectAttributeName(): string {
    const token = this.peek();
    if (token.kind !== TokenKind.Name && token.kind !== TokenKind.Keyword) this.failExpected(['identifier']);
    return this.advance().value;
  }

  private parseSubscript(start: Token, value: ast.Expr, optional: boolean): ast.Expr {
    this.expectPunct('[');
    return this.withLayout(false, () => {
      let lower: ast.Expr | null = null;
      if (!this.isPunct(':')) {
        lower = this.parseTest();
        if (this.eatPunct(']')) {
          return {
            kind: 'SubscriptExpr',
            span: this.spanFrom(start),
            value,
            index: lower,
            optional,
          } as ast.Expr;
        }
      }
      this.expectPunct(':');
      const upper = this.isPunct(':') || this.isPunct(']') ? null : this.parseTest();
      let step: ast.Expr | null = null;
      if (this.eatPunct(':') && !this.isPunct(']')) step = this.parseTest();
      this.expectPunct(']');
      return {
        kind: 'SliceExpr',
        span: this.spanFrom(start),
        value,
        lower,
        upper,
        step,
        optional,
      } as ast.Expr;
    });
  }

  private parseCallArguments(): { args: ast.Expr[]; keywords: ast.Keyword[] } {
    this.expectPunct('(');
    return this.withLayout(false, () => {
      const args: ast.Expr[] = [];
      const keywords: ast.Keyword[] = [];
      while (!this.isPunct(')')) {
        const token = this.peek();
        if (token.kind === TokenKind.Name && this.isPunct('=', this.peekSecond())) {
          this.advance();
          this.advance();
          const value = this.parseTest();
          keywords.push({ kind: 'Keyword', span: this.spanFrom(token), name: token.value, value });
        } else {
          if (keywords.length > 0) this.fail(token, 'positional argument follows keyword argument');
          args.push(this.parseTest());
        }
        if (!this.eatPunct(',')) break;
      }
      this.expectPunct(')');
      return { args, keywords };
    });
  }

  private parseSchemaExpr(
    start: Token,
    name: ast.QualifiedName,
    call: ast.CallExpr | null = null,
  ): ast.SchemaExpr {
    let args = call?.args ?? [];
    let keywords = call?.keywords ?? [];
    if (!call && this.isPunct('(')) ({ args, keywords } = this.parseCallArguments());
    const config = this.parseConfig();
    return { kind: 'SchemaExpr', span: this.spanFrom(start), name, args, keywords, config };
  }

  private parseAtom(): ast.Expr {
    const token = this.peek();
    switch (token.kind) {
      case TokenKind.Name:
        if (QUANTIFIERS.has(token.value) && !token.escaped && this.isQuantifierStart())
          return this.parseQuantifier();
        this.advance();
        return { kind: 'Identifier', span: this.spanFrom(token), name: token.value };
      case TokenKind.Number:
        this.advance();
        return this.numberLiteral(token, false);
      case TokenKind.String:
        this.advance();
        return this.stringLiteral(token);
      case TokenKind.Keyword:
        if (NAME_CONSTANTS.has(token.value)) {
          this.advance();
          return {
            kind: 'NameConstant',
            span: this.spanFrom(token),
            value: token.value as ast.NameConstant['value'],
          };
        }
        if (token.value === 'lambda') return this.parseLambda();
        break;
      case TokenKind.Punct:
        if (token.value === '(') return this.parseParen();
        if (token.value === '[') return this.parseList();
        if (token.value === '{') return this.parseBraced();
        break;
      case TokenKind.Newline:
        // `a ==` at the end of a line: reported, and the statement ends with the operand missing.
        this.recovered.push(
          ...this.errorAt(token, `${EXPRESSION_START} got ${describeToken(token)}`).entries,
        );
        return { kind: 'MissingExpr', span: this.source.span(token.start, token.start) };
    }
    this.fail(token, `${EXPRESSION_START} got ${describeToken(token)}`);
  }

  private numberLiteral(token: Token, negative: boolean): ast.NumberLit {
    const value = token.numberValue ?? 0;
    return {
      kind: 'NumberLit',
      span: this.spanFrom(token),
      value: negative ? -value : value,
      isFloat: token.isFloat ?? false,
      suffix: token.suffix ?? null,
      raw: negative ? `-${token.value}` : token.value,
    };
  }

  private parseParen(): ast.Expr {
    const start = this.advance();
    return this.withLayout(false, () => {
      const expr = this.parseTest();
      this.expectPunct(')');
      return { kind: 'ParenExpr', span: this.spanFrom(start), expr } as ast.Expr;
    });
  }

  /** `all x in xs {` — the name is followed by loop variables and `in`. */
  private isQuantifierStart(): boolean {
    let i = this.peekIndex() + 1;
    for (;;) {
      const name = this.tokens[i];
      if (name?.kind !== TokenKind.Name) return false;
      const after = this.tokens[i + 1];
      if (after && this.isKeyword('in', after)) return true;
      if (!after || !this.isPunct(',', after)) return false;
      i += 2;
    }
  }

  private parseQuantifier(): ast.QuantExpr {
    const start = this.advance();
    const variables = this.parseLoopVariables();
    this.expectKeyword('in');
    const target = this.parseOrTest(true);
    this.expectPunct('{');
    return this.withLayout(false, () => {
      const { test, ifCond } = this.parseGuardedTest();
      this.expectPunct('}');
      return {
        kind: 'QuantExpr',
        span: this.spanFrom(start),
        op: start.value as ast.QuantExpr['op'],
        variables,
        target,
        test,
        ifCond,
      } as ast.QuantExpr;
    });
  }

  private parseLoopVariables(): ast.Identifier[] {
    const variables: ast.Identifier[] = [];
    do {
      const token = this.expectName();
      if (this.isPunct('.')) {
        throw kclError('CompileError', {
          file: this.source.file,
          line: token.line,
          column: token.column,
          message: 'loop variables can only be ordinary identifiers',
        });
      }
      variables.push({ kind: 'Identifier', span: this.spanFrom(token), name: token.value });
    } while (this.eatPunct(','));
    return variables;
  }

  private parseCompClauses(): ast.CompClause[] {
    const clauses: ast.CompClause[] = [];
    while (this.isKeyword('for')) {
      const start = this.advance();
      const targets = this.parseLoopVariables();
      this.expectKeyword('in');
      const iter = this.parseOrTest();
      const ifs: ast.Expr[] = [];
      while (this.isKeyword('if')) {
        this.advance();
        ifs.push(this.parseOrTest());
      }
      clauses.push({ kind: 'CompClause', span: this.spanFrom(start), targets, iter, ifs });
    }
    return clauses;
  }

  private parseLambda(): ast.LambdaExpr {
    const start = this.advance();
    let params: ast.Parameter[] = [];
    if (this.hasBracedParameters()) {
      this.advance();
      params = this.withLayout(false, () => {
        const list = this.parseParameters('}');
        this.expectPunct('}');
        return list;
      });
    } else if (!this.isPunct('{') && !this.isPunct('->')) params = this.parseParameters('{');
    const returnType = this.eatPunct('->') ? this.parseType() : null;
    this.expectPunct('{');
    const body = this.withLayout(true, () => this.parseStatements(false, true));
    this.expectPunct('}');
    return { kind: 'LambdaExpr', span: this.spanFrom(start), params, returnType, body };
  }

  /** `lambda {x: T} -> R {...}`: the first braces hold parameters when a body or `->` follows them. */
  private hasBracedParameters(): boolean {
    const i = this.peekIndex();
    if (!this.isPunct('{', this.tokens[i])) return false;
    const after = this.afterBrackets(i);
    return this.isPunct('->', after) || this.isPunct('{', after);
  }

  /** The first significant token after the bracket group that opens at token `i`. */
  private afterBrackets(start: number): Token {
    let i = start;
    let depth = 0;
    for (; i < this.tokens.length; i++) {
      const token = this.tokens[i] as Token;
      if (token.kind !== TokenKind.Punct) continue;
      if (token.value === '{' || token.value === '(' || token.value === '[') depth++;
      else if (token.value === '}' || token.value === ')' || token.value === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    i++;
    while (i < this.tokens.length - 1 && isLayout(this.tokens[i] as Token)) i++;
    return this.tokens[Math.min(i, this.tokens.length - 1)] as Token;
  }

  private parseList(): ast.Expr {
    const start = this.advance();
    return this.withLayout(
      false,
      () => {
        if (this.eatPunct(']')) return { kind: 'ListExpr', span: this.spanFrom(start), elts: [] } as ast.Expr;
        const first = this.parseListItem();
        if (this.isKeyword('for')) {
          const generators = this.parseCompClauses();
          this.expectPunct(']');
          return { kind: 'ListComp', span: this.spanFrom(start), elt: first, generators } as ast.Expr;
        }
        const elts = [first];
        for (;;) {
          const hadComma = this.eatPunct(',');
          if (this.isPunct(']')) break;
          if (!hadComma && !this.onNewLine(this.peek())) this.failExpected([']']);
          elts.push(this.parseListItem());
        }
        this.expectPunct(']');
        return { kind: 'ListExpr', span: this.spanFrom(start), elts } as ast.Expr;
      },
      true,
    );
  }

  private parseListItem(): ast.Expr {
    const start = this.peek();
    if (this.isKeyword('if', start)) return this.parseListIf();
    if (this.isPunct('*', start)) {
      this.advance();
      const value = this.parseBinary(0, false);
      return { kind: 'StarredExpr', span: this.spanFrom(start), value };
    }
    return this.parseTest();
  }

  private parseListIf(): ast.ListIfItem {
    const { start, ...branches } = this.parseIfBranches<ast.Expr>(
      () => this.parseListItem(),
      () => this.parseListIf(),
    );
    return { kind: 'ListIfItem', span: this.spanFrom(start), ...branches };
  }

  /**
   * `if cond: items`, then `elif` (one nested if-item, parsed by `parseElif`) or `else: items`,
   * the same inside lists and configs.
   */
  private parseIfBranches<Item>(parseItem: () => Item, parseElif: () => Item) {
    const start = this.advance();
    const cond = this.parseTest();
    this.expectPunct(':');
    const body = this.parseConditionalBody(parseItem);
    let orelse: Item[] | null = null;
    if (this.continuesIf('elif')) orelse = [this.nested(parseElif)];
    else if (this.continuesIf('else')) {
      this.advance();
      this.expectPunct(':');
      orelse = this.parseConditionalBody(parseItem);
    }
    return { start, cond, body, orelse };
  }

  /**
   * The items after `if cond:` in a list or config: on the same line (comma-separated),
   * or an indented block that ends at its DEDENT.
   */
  private parseConditionalBody<T>(parseItem: () => T): T[] {
    const items: T[] = [];
    if (this.raw().kind !== TokenKind.Newline) {
      do {
        items.push(parseItem());
      } while (
        this.isPunct(',', this.raw()) &&
        this.advance() &&
        !this.onNewLine(this.peek()) &&
        !this.isClosing(this.peek())
      );
      return items;
    }
    while (this.raw().kind === TokenKind.Newline) this.index++;
    const indent = this.raw();
    if (indent.kind !== TokenKind.Indent)
      this.fail(indent, `expected one of ["indent"] got ${describeToken(indent)}`);
    this.index++;
    let nested = 0;
    for (;;) {
      const token = this.raw();
      if (token.kind === TokenKind.Newline || this.isPunct(',', token)) {
        this.index++;
      } else if (token.kind === TokenKind.Indent) {
        nested++;
        this.index++;
      } else if (token.kind === TokenKind.Dedent) {
        this.index++;
        if (nested === 0) break;
        nested--;
      } else if (token.kind === TokenKind.EOF || this.isClosing(token)) {
        break;
      } else items.push(parseItem());
    }
    return items;
  }

  /**
   * Whether an `elif`/`else` comes next and belongs to the `if` just parsed. After a block
   * body, a DEDENT before the keyword means it sits at a shallower indent: it belongs to
   * an enclosing `if`.
   */
  private continuesIf(keyword: 'elif' | 'else'): boolean {
    let at = this.index;
    while (this.tokens[at]?.kind === TokenKind.Newline) at++;
    const token = this.tokens[at];
    return token !== undefined && this.isKeyword(keyword, token);
  }

  private isClosing(token: Token): boolean {
    return this.isPunct('}', token) || this.isPunct(']', token) || this.isPunct(')', token);
  }

  /** The `{...}` of a schema instantiation, where a comprehension is not allowed. */
  private parseConfig(): ast.ConfigExpr {
    const start = this.peek();
    const braced = this.parseBraced();
    if (braced.kind === 'DictComp') this.fail(start, 'a dict comprehension cannot follow a schema name');
    return braced;
  }

  private parseBraced(): ast.ConfigExpr | ast.DictComp {
    const start = this.expectPunct('{');
    return this.withLayout(
      false,
      () => {
        const items: ast.ConfigItem[] = [];
        while (!this.isPunct('}')) {
          const item = this.parseConfigItem();
          if (items.length === 0 && item.kind === 'ConfigEntry' && this.isKeyword('for')) {
            const generators = this.parseCompClauses();
            this.expectPunct('}');
            return { kind: 'DictComp', span: this.spanFrom(start), entry: item, generators };
          }
          items.push(item);
          const hadComma = this.eatPunct(',');
          if (!hadComma && !this.isPunct('}') && !this.onNewLine(this.peek())) this.failExpected(['}']);
        }
        this.expectPunct('}');
        return { kind: 'ConfigExpr', span: this.spanFrom(start), items };
      },
      true,
    ) as ast.ConfigExpr | ast.DictComp;
  }

  private parseConfigItem(): ast.ConfigItem {
    const start = this.peek();
    if (this.isKeyword('if', start)) return this.parseConfigIf();
    if (this.isPunct('**', start)) {
      this.advance();
      const value = this.parseBinary(0, false);
      return { kind: 'ConfigEntry', span: this.spanFrom(start), key: null, op: ':', value };
    }
    const keyExpr = this.parseTest();
    const opToken = this.peek();
    let op: ast.ConfigOp;
    if (this.isPunct(':', opToken) || this.isPunct('=', opToken) || this.isPunct('+=', opToken))
      op = opToken.value as ast.ConfigOp;
    else this.failExpected([':', '=', '+=']);
    this.advance();
    const value = this.parseTest();
    const key = isNameChain(keyExpr) ? toQualifiedName(keyExpr) : keyExpr;
    return { kind: 'ConfigEntry', span: this.spanFrom(start), key, op, value };
  }

  private parseConfigIf(): ast.ConfigIfEntry {
    const { start, ...branches } = this.parseIfBranches<ast.ConfigItem>(
      () => this.parseConfigItem(),
      () => this.parseConfigIf(),
    );
    return { kind: 'ConfigIfEntry', span: this.spanFrom(start), ...branches };
  }

  // -------------------------------------------------------------------------------------
  // Strings

  private stringLiteral(token: Token): ast.StringLit | ast.InterpolatedString {
    const text = this.source.text;
    const contentStart = token.contentStart ?? token.start;
    const contentEnd = token.contentEnd ?? token.end;
    const span = this.source.span(token.start, token.end);
    const isLong = token.isLong ?? false;
    const isRaw = token.isRaw ?? false;
    if (isRaw) {
      return {
        kind: 'StringLit',
        span,
        value: text.slice(contentStart, contentEnd),
        isLong,
        isRaw,
        raw: token.value,
      };
    }
    const parts: ast.StringPart[] = [];
    let chunk = contentStart;
    let pos = contentStart;
    while (pos < contentEnd) {
      const code = text.charCodeAt(pos);
      if (code === 92) {
        pos += 2;
        continue;
      }
      if (code !== 36 || text.charCodeAt(pos + 1) !== 123) {
        pos++;
        continue;
      }
      const close = findInterpolationEnd(text, pos + 2, contentEnd);
      if (close < 0) break;
      if (pos > chunk) parts.push(this.stringText(chunk, pos));
      parts.push(this.formattedValue(pos, close));
      pos = close + 1;
      chunk = pos;
    }
    if (parts.length === 0) {
      return {
        kind: 'StringLit',
        span,
        value: decodeEscapes(text, contentStart, contentEnd),
        isLong,
        isRaw,
        raw: token.value,
      };
    }
    if (chunk < contentEnd) parts.push(this.stringText(chunk, contentEnd));
    return { kind: 'InterpolatedString', span, parts, isLong, raw: token.value };
  }

  private stringText(start: number, end: number): ast.StringText {
    return {
      kind: 'StringText',
      span: this.source.span(start, end),
      value: decodeEscapes(this.source.text, start, end),
    };
  }

  /** `${expr}` or `${expr: spec}` between `dollar` and the closing brace. */
  private formattedValue(dollar: number, close: number): ast.FormattedValue {
    const text = this.source.text;
    const exprStart = dollar + 2;
    const specColon = findFormatSpecColon(text, exprStart, close);
    const exprEnd = specColon < 0 ? close : specColon;
    const formatSpec = specColon < 0 ? null : text.slice(specColon + 1, close).trim();
    let expr: ast.Expr;
    try {
      expr = parseExpressionRange(this.source, exprStart, exprEnd);
    } catch {
      const line = this.source.lineOf(exprStart);
      throw kclError('InvalidSyntax', {
        file: this.source.file,
        line,
        column: this.source.columnOf(exprStart, line),
        message: `invalid string interpolation expression: '${text.slice(exprStart, exprEnd)}'`,
      });
    }
    return { kind: 'FormattedValue', span: this.source.span(dollar, close + 1), expr, formatSpec };
  }

  // -------------------------------------------------------------------------------------
  // Types

  parseType(): ast.TypeExpr {
    const start = this.peek();
    const first = this.parseTypeAtom();
    if (!this.isPunct('|')) return first;
    const types = [first];
    while (this.eatPunct('|')) types.push(this.parseTypeAtom());
    return { kind: 'UnionType', span: this.spanFrom(start), types };
  }

  private parseTypeAtom(): ast.TypeExpr {
    const token = this.peek();
    if (token.kind === TokenKind.Name) {
      if (token.value === 'any' && !token.escaped) {
        this.advance();
        return { kind: 'AnyType', span: this.spanFrom(token) };
      }
      if (BASIC_TYPES.has(token.value) && !token.escaped) {
        this.advance();
        return { kind: 'BasicType', span: this.spanFrom(token), name: token.value as ast.BasicType['name'] };
      }
      const name = this.parseQualifiedName();
      return { kind: 'NamedType', span: name.span, names: name.names };
    }
    if (token.kind === TokenKind.Keyword && NAME_CONSTANTS.has(token.value)) {
      this.advance();
      const literal: ast.NameConstant = {
        kind: 'NameConstant',
        span: this.spanFrom(token),
        value: token.value as ast.NameConstant['value'],
      };
      return { kind: 'LiteralType', span: literal.span, literal };
    }
    if (token.kind === TokenKind.String) {
      this.advance();
      const literal = this.stringLiteral(token);
      if (literal.kind !== 'StringLit') this.fail(token, 'string interpolation is not allowed in a type');
      return { kind: 'LiteralType', span: literal.span, literal };
    }
    if (
      token.kind === TokenKind.Number ||
      (this.isPunct('-', token) && this.peekSecond().kind === TokenKind.Number)
    ) {
      const negative = this.isPunct('-', token);
      if (negative) this.advance();
      const number = this.advance();
      const literal = this.numberLiteral(number, negative);
      literal.span = this.spanFrom(token);
      return { kind: 'LiteralType', span: literal.span, literal };
    }
    if (this.isPunct('[', token)) {
      this.advance();
      return this.withLayout(false, () => {
        const elem = this.isPunct(']') ? null : this.parseType();
        this.expectPunct(']');
        return { kind: 'ListType', span: this.spanFrom(token), elem } as ast.TypeExpr;
      });
    }
    if (this.isPunct('{', token)) {
      this.advance();
      return this.withLayout(false, () => {
        let key: ast.TypeExpr | null = null;
        let value: ast.TypeExpr | null = null;
        if (!this.isPunct('}')) {
          if (!this.isPunct(':')) key = this.parseType();
          this.expectPunct(':');
          if (!this.isPunct('}')) value = this.parseType();
        }
        this.expectPunct('}');
        return { kind: 'DictType', span: this.spanFrom(token), key, value } as ast.TypeExpr;
      });
    }
    if (this.isPunct('(', token)) {
      this.advance();
      const params = this.withLayout(false, () => {
        const list: ast.TypeExpr[] = [];
        while (!this.isPunct(')')) {
          list.push(this.parseType());
          if (!this.eatPunct(',')) break;
        }
        this.expectPunct(')');
        return list;
      });
      const returnType = this.eatPunct('->') ? this.parseType() : null;
      return { kind: 'FunctionType', span: this.spanFrom(token), params, returnType };
    }
    this.fail(token, `expected one of ["type"] got ${describeToken(token)}`);
  }
}

function isLayout(token: Token): boolean {
  return (
    token.kind === TokenKind.Newline || token.kind === TokenKind.Indent || token.kind === TokenKind.Dedent
  );
}

/** `a`, `a.b.c`: plain dotted names. */
function isNameChain(expr: ast.Expr): expr is ast.Identifier | ast.SelectorExpr {
  if (expr.kind === 'Identifier') return true;
  return expr.kind === 'SelectorExpr' && !expr.optional && isNameChain(expr.value);
}

/** Whether `expr {` instantiates a schema: `Name`, `pkg.Name` or `Name(args)`. */
function isSchemaName(expr: ast.Expr): boolean {
  return isNameChain(expr) || (expr.kind === 'CallExpr' && isNameChain(expr.func));
}

function toQualifiedName(expr: ast.Expr): ast.QualifiedName {
  const names: string[] = [];
  let current = expr;
  while (current.kind === 'SelectorExpr') {
    names.unshift(current.attr);
    current = current.value;
  }
  if (current.kind === 'Identifier') names.unshift(current.name);
  return { kind: 'QualifiedName', span: expr.span, names };
}

/** The offset of the `}` closing an interpolation that starts at `start`, or -1. */
function findInterpolationEnd(text: string, start: number, end: number): number {
  let depth = 0;
  for (let pos = start; pos < end; pos++) {
    const code = text.charCodeAt(pos);
    if (code === 123) depth++;
    else if (code === 125) {
      if (depth === 0) return pos;
      depth--;
    } else if (code === 92) pos++;
    else if (code === 39 || code === 34) pos = skipQuoted(text, pos, end);
  }
  return -1;
}

/** The offset of the quote closing the string that opens at `start` (or `end - 1`). */
function skipQuoted(text: string, start: number, end: number): number {
  const quote = text.charCodeAt(start);
  for (let pos = start + 1; pos < end; pos++) {
    const code = text.charCodeAt(pos);
    if (code === 92) pos++;
    else if (code === quote) return pos;
  }
  return end - 1;
}

/** The `:` that starts a `#json`-style format spec at bracket depth 0, or -1. */
function findFormatSpecColon(text: string, start: number, end: number): number {
  let depth = 0;
  for (let pos = start; pos < end; pos++) {
    const code = text.charCodeAt(pos);
    if (code === 40 || code === 91 || code === 123) depth++;
    else if (code === 41 || code === 93 || code === 125) depth--;
    else if (code === 39 || code === 34) pos = skipQuoted(text, pos, end);
    else if (code === 58 && depth === 0 && /^\s*#/.test(text.slice(pos + 1, end))) return pos;
  }
  return -1;
}
