/**
 * What evaluation works in: local scopes, the context an expression is evaluated in, the
 * state of a package being evaluated and of a schema instance being built.
 */
import type * as ast from '../ast.ts';
import { UNDEFINED, type KclDict, type KclModule, type KclValue } from '../values.ts';
import type { LazyBody } from './lazy.ts';
import type { ResolvedSchema, SchemaDef } from './schema.ts';
import type { KType } from './types.ts';

/** Local names: lambda parameters and locals, comprehension variables, schema arguments. */
export class Scope {
  readonly vars = new Map<string, KclValue>();
  readonly parent: Scope | null;
  /**
   * True for the keys of a config under construction. Later entries may refer to them; they
   * hide outer names except the attributes of the schema being evaluated.
   */
  readonly configKeys: boolean;

  constructor(parent: Scope | null, configKeys = false) {
    this.parent = parent;
    this.configKeys = configKeys;
  }
}

/** What an expression is evaluated in. */
export interface Ctx {
  pkg: Package;
  file: string;
  locals: Scope | null;
  frame: SchemaFrame | null;
}

export type Def = SchemaDef<Ctx>;

/** A pending `name: Schema {...}`: configs are merged before the instance is built. */
export interface PendingUnification {
  def: Def;
  positional: KclValue[];
  keywords: Map<string, KclValue>;
  config: KclDict;
  /** The last unification statement and the last line its evaluation reached. */
  stmt: ast.Stmt;
  ctx: Ctx;
  line: ast.Span;
}

export class Package {
  readonly pkgpath: string;
  readonly modules: ast.Module[];
  readonly globals = new Map<string, KclValue>();
  readonly types = new Map<string, KType>();
  /** Names in the order they are first assigned: the output order. */
  readonly order: string[] = [];
  readonly imports = new Map<string, Map<string, KclValue>>();
  /** Import statements by file and bound name: such names cannot be assigned. */
  readonly importStmts = new Map<string, Map<string, ast.ImportStmt>>();
  readonly aliases = new Map<string, { type: ast.TypeExpr; ctx: Ctx }>();
  readonly pending = new Map<string, PendingUnification>();
  /** Values of top-level expression statements (`Schema {...}` alone on a line): they are output too. */
  readonly exprValues: { value: KclValue; stmt: ast.ExprStmt }[] = [];
  lazy!: LazyBody<Ctx>;
  state: 'new' | 'running' | 'done' = 'new';
  /** The import that started this package's evaluation (null for the main package). */
  importedAt: ast.ImportStmt | null = null;
  module!: KclModule;

  constructor(pkgpath: string, modules: ast.Module[]) {
    this.pkgpath = pkgpath;
    this.modules = modules;
  }
}

/** An instance under construction. */
export class SchemaFrame {
  readonly def: Def;
  readonly info: ResolvedSchema<Ctx>;
  readonly values = new Map<string, KclValue>();
  readonly order: string[] = [];
  readonly config: KclDict;
  readonly pending = new Map<string, PendingUnification>();
  /** Schema-valued defaults left unbuilt so the config can join them before checks run. */
  readonly deferred = new Map<string, { expr: ast.SchemaExpr; ctx: Ctx }>();
  /** Config keys that only the index signature admits. */
  readonly relaxed: string[] = [];
  lazy!: LazyBody<Ctx>;

  constructor(def: Def, info: ResolvedSchema<Ctx>, config: KclDict) {
    this.def = def;
    this.info = info;
    this.config = config;
  }
}

/** Where each config entry was written, for errors about it. */
export interface EntryOrigin {
  span: ast.Span;
  value: ast.Expr;
}

/** A map lookup as a KCL value: a missing entry is Undefined (a stored None stays None). */
export function orUndefined(v: KclValue | undefined): KclValue {
  return v === undefined ? UNDEFINED : v;
}
