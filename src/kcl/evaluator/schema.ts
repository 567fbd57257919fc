/**
 * Schema definitions as runtime values. A definition keeps its declaration and where it
 * was declared; what depends on other names (parent, mixins, attribute types) is
 * resolved on first use, so schemas may refer to schemas declared later.
 */
import type * as ast from '../ast.ts';
import { KclDict, type KclSchema, type KclSchemaType, type KclValue } from '../values.ts';
import type { KType, SchemaTypeRef } from './types.ts';

/** One declared attribute of a schema (or of one of its parents and mixins). */
export interface AttrInfo {
  name: string;
  type: KType;
  optional: boolean;
  /** The declaration, for "defined here" labels. */
  span: ast.Span;
  /** The type as written, which runtime type errors quote. */
  annotation: ast.TypeExpr;
  decorators: ast.Decorator[];
}

/** A piece of the combined body: a schema's own statements or a mixin's. */
export interface BodyPart<C> {
  def: SchemaDef<C>;
  stmts: ast.Stmt[];
  checks: ast.CheckExpr[];
}

/** What a definition knows once its names are resolved. */
export interface ResolvedSchema<C> {
  parent: SchemaDef<C> | null;
  /** Bodies in evaluation order: root parent first, each schema followed by its mixins. */
  parts: BodyPart<C>[];
  attrs: Map<string, AttrInfo>;
  indexSignature: { key: KType; value: KType; node: ast.IndexSignature } | null;
}

/** What instantiation needs from the evaluator. */
export interface SchemaHost<C> {
  instantiate(
    def: SchemaDef<C>,
    positional: readonly KclValue[],
    keywords: ReadonlyMap<string, KclValue>,
    config: KclDict,
  ): KclSchema;
}

/** How an instance was made, kept so that unification can rebuild it with a merged config. */
export interface InstanceOrigin<C> {
  def: SchemaDef<C>;
  config: KclDict;
  positional: readonly KclValue[];
  keywords: ReadonlyMap<string, KclValue>;
}

export class SchemaDef<C> implements KclSchemaType, SchemaTypeRef {
  readonly kind = 'schemaType' as const;
  readonly name: string;
  readonly pkgpath: string;
  readonly node: ast.SchemaStmt | ast.RuleStmt;
  /** The top-level context of the declaring file. */
  readonly ctx: C;
  readonly host: SchemaHost<C>;
  resolved: ResolvedSchema<C> | null = null;
  /** True while resolving, to report inheritance cycles. */
  resolving = false;
  /** On an inheritance cycle: schemas deriving from it do not inherit from it. */
  onCycle = false;
  /** Instances of this schema and its children, with the package that made each. */
  readonly instances: { instance: KclSchema; pkgpath: string }[] = [];

  constructor(node: ast.SchemaStmt | ast.RuleStmt, pkgpath: string, ctx: C, host: SchemaHost<C>) {
    this.name = node.name;
    this.pkgpath = pkgpath;
    this.node = node;
    this.ctx = ctx;
    this.host = host;
  }

  get isMixin(): boolean {
    return this.node.kind === 'SchemaStmt' && this.node.flavor === 'mixin';
  }

  get isProtocol(): boolean {
    return this.node.kind === 'SchemaStmt' && this.node.flavor === 'protocol';
  }

  call(positional: readonly KclValue[], keywords: ReadonlyMap<string, KclValue>): KclValue {
    return this.host.instantiate(this, positional, keywords, new KclDict());
  }

  accepts(instance: KclSchema): boolean {
    const origin = instance.runtime as InstanceOrigin<C> | undefined;
    // A file imported both as its own package and within its directory's package declares
    // the schema twice; both definitions come from one declaration and are the same type.
    for (let def = origin?.def; def; def = def.resolved?.parent ?? undefined) {
      if (def === this || def.node === this.node) return true;
    }
    return origin === undefined && instance.name === this.name;
  }

  fromConfig(config: KclDict): KclSchema {
    return this.host.instantiate(this, [], new Map(), config);
  }
}

export function originOf<C>(instance: KclSchema): InstanceOrigin<C> | undefined {
  return instance.runtime as InstanceOrigin<C> | undefined;
}
