/**
 * The KCL syntax tree. Every node is a plain object with a `kind` discriminant and a
 * `span`; unions below (`Stmt`, `Expr`, `TypeExpr`, ...) are what consumers switch on.
 * Lines and columns are 1-based, as KCL reports them; `endColumn` is exclusive.
 */
import type { DiagnosticEntry } from './diagnostics.ts';

/** Where a node sits in its source file. */
export interface Span {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** A whole `.k` file. */
export interface Module {
  kind: 'Module';
  span: Span;
  /** The file path as given to the parser. */
  file: string;
  /** A string literal written as the first statement, if any (it is also kept in `body`). */
  docstring: string | null;
  body: Stmt[];
  comments: Comment[];
  /** Syntax errors the parser reported and read past; they are reported before evaluating. */
  syntaxErrors: DiagnosticEntry[];
}

/** `# ...` up to the end of the line; `text` excludes the `#`. */
export interface Comment {
  kind: 'Comment';
  span: Span;
  text: string;
}

// ---------------------------------------------------------------------------------------
// Statements

export type Stmt =
  | ImportStmt
  | AssignStmt
  | AugAssignStmt
  | UnificationStmt
  | ExprStmt
  | IfStmt
  | AssertStmt
  | SchemaStmt
  | RuleStmt
  | TypeAliasStmt
  | SchemaAttr;

/** `import a.b.c as d`; relative paths keep their leading dots (`.a`, `..a.b`). */
export interface ImportStmt {
  kind: 'ImportStmt';
  span: Span;
  /** The dotted path exactly as written, e.g. `..pkg.sub`. */
  path: string;
  /** The `as` name, or null when none was written. */
  asName: string | null;
  /** The name the import binds: `asName`, else the last path segment. */
  name: string;
}

/** The left side of an assignment: a name followed by `.attr` / `[index]` steps. */
export interface Target {
  kind: 'Target';
  span: Span;
  name: string;
  path: TargetStep[];
}

/** One step of a target path: `.name` or `[expr]`. */
export type TargetStep =
  { kind: 'member'; name: string; span: Span } | { kind: 'index'; index: Expr; span: Span };

/** `a = v`, `a: T = v`, `a = b = v`, `a.b[0] = v`. A type is only allowed with one target. */
export interface AssignStmt {
  kind: 'AssignStmt';
  span: Span;
  targets: Target[];
  type: TypeExpr | null;
  value: Expr;
}

export type AugOp = '+=' | '-=' | '*=' | '/=' | '//=' | '%=' | '**=' | '<<=' | '>>=' | '&=' | '|=' | '^=';

/** `a += v` and the other augmented forms. */
export interface AugAssignStmt {
  kind: 'AugAssignStmt';
  span: Span;
  target: Target;
  op: AugOp;
  value: Expr;
}

/** `a: Schema {...}` (or `a: pkg.Schema(args) {...}`): declares `a` and unifies it with the schema value. */
export interface UnificationStmt {
  kind: 'UnificationStmt';
  span: Span;
  target: Identifier;
  value: SchemaExpr;
}

/** An expression evaluated for its value or effect, e.g. a docstring or `print(x)`. */
export interface ExprStmt {
  kind: 'ExprStmt';
  span: Span;
  expr: Expr;
}

/** `if c: ... elif d: ... else: ...`; an `elif` is a single IfStmt inside `orelse`. */
export interface IfStmt {
  kind: 'IfStmt';
  span: Span;
  cond: Expr;
  body: Stmt[];
  orelse: Stmt[];
}

/** `assert test if cond, msg`. */
export interface AssertStmt {
  kind: 'AssertStmt';
  span: Span;
  test: Expr;
  ifCond: Expr | null;
  msg: Expr | null;
}

/** `@name` or `@name(args)` before a schema, rule or schema attribute. */
export interface Decorator {
  kind: 'Decorator';
  span: Span;
  name: QualifiedName;
  /** Null when written without parentheses. */
  args: Expr[] | null;
  keywords: Keyword[];
}

/** A parameter of a schema, rule or lambda: `name: T = default`. */
export interface Parameter {
  kind: 'Parameter';
  span: Span;
  name: string;
  type: TypeExpr | null;
  default: Expr | null;
}

/** `schema` / `mixin` / `protocol` declarations, which share one shape. */
export interface SchemaStmt {
  kind: 'SchemaStmt';
  span: Span;
  /** Which keyword introduced it. */
  flavor: 'schema' | 'mixin' | 'protocol';
  name: string;
  nameSpan: Span;
  docstring: string | null;
  params: Parameter[];
  /** `(Base)` — KCL allows at most one parent. */
  parent: QualifiedName | null;
  /** `for Protocol`. */
  forHost: QualifiedName | null;
  /** `mixin [A, B]` lines in the body. */
  mixins: QualifiedName[];
  decorators: Decorator[];
  /** Attributes and other statements of the body, in source order. */
  body: Stmt[];
  indexSignature: IndexSignature | null;
  checks: CheckExpr[];
}

/** `[name: K]: V = default`, `[...K]: V`, `[K]: V` inside a schema body. */
export interface IndexSignature {
  kind: 'IndexSignature';
  span: Span;
  keyName: string | null;
  keyType: TypeExpr;
  valueType: TypeExpr;
  /** True for the `...` form, which also lets other attributes be any key. */
  anyOther: boolean;
  value: Expr | null;
}

/** A schema attribute declaration: `name?: T = value` (the op may also be an augmented one). */
export interface SchemaAttr {
  kind: 'SchemaAttr';
  span: Span;
  name: string;
  nameSpan: Span;
  type: TypeExpr;
  optional: boolean;
  op: '=' | AugOp | null;
  value: Expr | null;
  decorators: Decorator[];
}

/** `rule Name[params](Base, ...) for Protocol:` followed by check expressions. */
export interface RuleStmt {
  kind: 'RuleStmt';
  span: Span;
  name: string;
  nameSpan: Span;
  docstring: string | null;
  params: Parameter[];
  parents: QualifiedName[];
  forHost: QualifiedName | null;
  decorators: Decorator[];
  checks: CheckExpr[];
}

/** `type Name = T`. */
export interface TypeAliasStmt {
  kind: 'TypeAliasStmt';
  span: Span;
  name: string;
  nameSpan: Span;
  type: TypeExpr;
}

/** One line of a `check:` block or rule: `test if cond, msg`. */
export interface CheckExpr {
  kind: 'CheckExpr';
  span: Span;
  test: Expr;
  ifCond: Expr | null;
  msg: Expr | null;
}

// ---------------------------------------------------------------------------------------
// Expressions

export type Expr =
  | Identifier
  | NumberLit
  | StringLit
  | InterpolatedString
  | NameConstant
  | UnaryExpr
  | BinaryExpr
  | CompareExpr
  | IfExpr
  | AsExpr
  | SelectorExpr
  | SubscriptExpr
  | SliceExpr
  | CallExpr
  | ParenExpr
  | ListExpr
  | ListIfItem
  | StarredExpr
  | ListComp
  | DictComp
  | ConfigExpr
  | SchemaExpr
  | QuantExpr
  | LambdaExpr
  | MissingExpr;

/** A plain name. `$name` escapes keywords; `name` holds it without the `$`. */
export interface Identifier {
  kind: 'Identifier';
  span: Span;
  name: string;
}

/** A dotted name in a type, schema instantiation, parent, decorator or config key: `pkg.Name`. */
export interface QualifiedName {
  kind: 'QualifiedName';
  span: Span;
  names: string[];
}

/** Multiplier suffixes: decimal (`k`, `M`, ...), binary (`Ki`, `Mi`, ...) and fractional (`n`, `u`, `m`). */
export type NumberSuffix =
  'n' | 'u' | 'm' | 'k' | 'K' | 'M' | 'G' | 'T' | 'P' | 'Ki' | 'Mi' | 'Gi' | 'Ti' | 'Pi';

/**
 * `1`, `0x1F`, `0o17`, `0b101`, `1.5e3`, `1Ki`. `value` is the number without the suffix;
 * integers above 2^53 lose precision in `value`, so `raw` is kept for exact conversion.
 */
export interface NumberLit {
  kind: 'NumberLit';
  span: Span;
  value: number;
  isFloat: boolean;
  suffix: NumberSuffix | null;
  /** The digits as written, without the suffix. */
  raw: string;
}

/** A string literal without interpolation; `value` has escapes resolved. */
export interface StringLit {
  kind: 'StringLit';
  span: Span;
  value: string;
  /** Triple-quoted. */
  isLong: boolean;
  /** `r"..."`: no escapes and no interpolation. */
  isRaw: boolean;
  /** The literal as written, quotes and prefix included. */
  raw: string;
}

/** A string with `${...}` parts. */
export interface InterpolatedString {
  kind: 'InterpolatedString';
  span: Span;
  parts: StringPart[];
  isLong: boolean;
  raw: string;
}

export type StringPart = StringText | FormattedValue;

/** Literal text between interpolations, escapes resolved. */
export interface StringText {
  kind: 'StringText';
  span: Span;
  value: string;
}

/** `${expr}` or `${expr: #json}`; `formatSpec` is the text after the colon, trimmed. */
export interface FormattedValue {
  kind: 'FormattedValue';
  span: Span;
  expr: Expr;
  formatSpec: string | null;
}

/**
 * Where the parser found no expression at the end of a line (`a ==`). The error is reported
 * and parsing goes on, as the official parser does, so that the checker still sees the rest.
 */
export interface MissingExpr {
  kind: 'MissingExpr';
  span: Span;
}

/** `True`, `False`, `None`, `Undefined`. */
export interface NameConstant {
  kind: 'NameConstant';
  span: Span;
  value: 'True' | 'False' | 'None' | 'Undefined';
}

export type UnaryOp = '+' | '-' | '~' | 'not';

export interface UnaryExpr {
  kind: 'UnaryExpr';
  span: Span;
  op: UnaryOp;
  operand: Expr;
}

export type BinaryOp =
  '+' | '-' | '*' | '/' | '//' | '%' | '**' | '<<' | '>>' | '&' | '|' | '^' | 'and' | 'or';

export interface BinaryExpr {
  kind: 'BinaryExpr';
  span: Span;
  op: BinaryOp;
  left: Expr;
  right: Expr;
}

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'is' | 'is not';

/** `a < b <= c`: `ops[i]` compares the previous operand with `comparators[i]`. */
export interface CompareExpr {
  kind: 'CompareExpr';
  span: Span;
  left: Expr;
  ops: CompareOp[];
  comparators: Expr[];
}

/** `body if cond else orelse`. */
export interface IfExpr {
  kind: 'IfExpr';
  span: Span;
  body: Expr;
  cond: Expr;
  orelse: Expr;
}

/** `value as T`. */
export interface AsExpr {
  kind: 'AsExpr';
  span: Span;
  value: Expr;
  type: TypeExpr;
}

/** `value.attr` or `value?.attr`. */
export interface SelectorExpr {
  kind: 'SelectorExpr';
  span: Span;
  value: Expr;
  attr: string;
  optional: boolean;
}

/** `value[index]` or `value?[index]`. */
export interface SubscriptExpr {
  kind: 'SubscriptExpr';
  span: Span;
  value: Expr;
  index: Expr;
  optional: boolean;
}

/** `value[lower:upper:step]`, any part may be omitted. */
export interface SliceExpr {
  kind: 'SliceExpr';
  span: Span;
  value: Expr;
  lower: Expr | null;
  upper: Expr | null;
  step: Expr | null;
  optional: boolean;
}

/** `name=value` in a call. */
export interface Keyword {
  kind: 'Keyword';
  span: Span;
  name: string;
  value: Expr;
}

export interface CallExpr {
  kind: 'CallExpr';
  span: Span;
  func: Expr;
  args: Expr[];
  keywords: Keyword[];
}

export interface ParenExpr {
  kind: 'ParenExpr';
  span: Span;
  expr: Expr;
}

/** `[a, *b, if c: d]`. */
export interface ListExpr {
  kind: 'ListExpr';
  span: Span;
  elts: Expr[];
}

/** `if cond: a, b elif ...: ... else: ...` inside a list; an `elif` is one ListIfItem in `orelse`. */
export interface ListIfItem {
  kind: 'ListIfItem';
  span: Span;
  cond: Expr;
  body: Expr[];
  orelse: Expr[] | null;
}

/** `*value` in a list. */
export interface StarredExpr {
  kind: 'StarredExpr';
  span: Span;
  value: Expr;
}

/** `for a, b in iter if c if d`. */
export interface CompClause {
  kind: 'CompClause';
  span: Span;
  targets: Identifier[];
  iter: Expr;
  ifs: Expr[];
}

export interface ListComp {
  kind: 'ListComp';
  span: Span;
  elt: Expr;
  generators: CompClause[];
}

/** `{k: v for k, v in d}`; the entry may use `:`, `=` or `+=`, or be `**x`. */
export interface DictComp {
  kind: 'DictComp';
  span: Span;
  entry: ConfigEntry;
  generators: CompClause[];
}

export type ConfigOp = ':' | '=' | '+=';

/**
 * `key: value`, `key = value`, `key += value`, or `**value` (key null). A key written as a
 * bare or dotted name is a QualifiedName: a literal attribute name or nested path
 * (`a.b.c: v`), never a variable lookup. Any other key is an expression.
 */
export interface ConfigEntry {
  kind: 'ConfigEntry';
  span: Span;
  key: QualifiedName | Expr | null;
  op: ConfigOp;
  value: Expr;
}

/** `if cond: entries elif ...: ... else: ...` inside a config; an `elif` is one ConfigIfEntry in `orelse`. */
export interface ConfigIfEntry {
  kind: 'ConfigIfEntry';
  span: Span;
  cond: Expr;
  body: ConfigItem[];
  orelse: ConfigItem[] | null;
}

export type ConfigItem = ConfigEntry | ConfigIfEntry;

/** `{ ... }`. */
export interface ConfigExpr {
  kind: 'ConfigExpr';
  span: Span;
  items: ConfigItem[];
}

/** `Name {...}` or `pkg.Name(args) {...}`. */
export interface SchemaExpr {
  kind: 'SchemaExpr';
  span: Span;
  name: QualifiedName;
  args: Expr[];
  keywords: Keyword[];
  config: ConfigExpr;
}

/** `all/any/map/filter x, y in target { test if cond }`. */
export interface QuantExpr {
  kind: 'QuantExpr';
  span: Span;
  op: 'all' | 'any' | 'map' | 'filter';
  variables: Identifier[];
  target: Expr;
  test: Expr;
  ifCond: Expr | null;
}

/** `lambda x: int, y = 1 -> str { stmts }`; the value of the last expression statement is returned. */
export interface LambdaExpr {
  kind: 'LambdaExpr';
  span: Span;
  params: Parameter[];
  returnType: TypeExpr | null;
  body: Stmt[];
}

// ---------------------------------------------------------------------------------------
// Types

export type TypeExpr =
  AnyType | BasicType | NamedType | ListType | DictType | UnionType | LiteralType | FunctionType;

/** `any`. */
export interface AnyType {
  kind: 'AnyType';
  span: Span;
}

/** `bool`, `int`, `float`, `str`. */
export interface BasicType {
  kind: 'BasicType';
  span: Span;
  name: 'bool' | 'int' | 'float' | 'str';
}

/** A schema or type alias, possibly qualified: `pkg.Name`. */
export interface NamedType {
  kind: 'NamedType';
  span: Span;
  names: string[];
}

/** `[T]`; `[]` has a null element type (any). */
export interface ListType {
  kind: 'ListType';
  span: Span;
  elem: TypeExpr | null;
}

/** `{K:V}`; `{}` and `{str:}` leave parts null (any). */
export interface DictType {
  kind: 'DictType';
  span: Span;
  key: TypeExpr | null;
  value: TypeExpr | null;
}

/** `A | B | C`. */
export interface UnionType {
  kind: 'UnionType';
  span: Span;
  types: TypeExpr[];
}

/** `"a"`, `1`, `2.5`, `1Ki`, `True`, `None` used as a type. */
export interface LiteralType {
  kind: 'LiteralType';
  span: Span;
  literal: StringLit | NumberLit | NameConstant;
}

/** `(A, B) -> R`; `()` alone has no return type (any). */
export interface FunctionType {
  kind: 'FunctionType';
  span: Span;
  params: TypeExpr[];
  returnType: TypeExpr | null;
}

/** Any node with a span. */
export type Node =
  | Module
  | Comment
  | Stmt
  | Expr
  | TypeExpr
  | Target
  | Decorator
  | Parameter
  | IndexSignature
  | CheckExpr
  | QualifiedName
  | Keyword
  | CompClause
  | ConfigEntry
  | ConfigIfEntry
  | StringText
  | FormattedValue;
