/**
 * Schemas at runtime: resolving a definition (parent, mixins, attribute types), building an
 * instance from its body and a config, and validating it (required attributes, checks).
 */
import type * as ast from '../ast.ts';
import { KclDiagnostic, type DiagnosticEntry } from '../diagnostics.ts';
import {
  KclDict,
  KclRuntimeError,
  KclSchema,
  configEntries,
  deepCopy,
  isConfig,
  isNoneOrUndefined,
  isSchema,
  typeName,
  truthy,
  union,
  type KclValue,
} from '../values.ts';
import { cannotAddMember, diagnostic, errorAt, labelAt, lineLabel } from './errors.ts';
import { assignedNames, bodyAssigns, firstKeyName, isLiteralExpr, nameConstant } from './syntax.ts';
import { SchemaFrame, Scope, orUndefined, type Ctx, type Def } from './context.ts';
import { LazyBody, type Branch, type Setter } from './lazy.ts';
import { SchemaDef, originOf, type AttrInfo, type BodyPart, type ResolvedSchema } from './schema.ts';
import {
  ANY,
  MISMATCH,
  checkerTypeText,
  convert,
  plainTypeText,
  typeText,
  valueTypeText,
  type KType,
} from './types.ts';
import {
  EvaluatorCore,
  admitsFloatLiteral,
  ArgumentTypeError,
  argumentError,
  checkArity,
  isDictValue,
  type ArgumentMismatch,
} from './core.ts';

export abstract class SchemaEvaluator extends EvaluatorCore {
  /** Definitions being resolved, outermost first, to report inheritance cycles. */
  private readonly resolvingSchemas: Def[] = [];

  protected resolveSchema(def: Def): ResolvedSchema<Ctx> {
    if (def.resolved) return def.resolved;
    if (def.resolving) {
      // Every schema on the cycle is reported, each at its name.
      const cycle = this.resolvingSchemas.slice(this.resolvingSchemas.indexOf(def));
      const names = cycle
        .map((d) => (d.pkgpath === '__main__' ? d.name : `${d.pkgpath}.${d.name}`))
        .join(', ');
      const message = `There is a circular reference between schemas ${names}`;
      for (const d of cycle) {
        d.onCycle = true;
        this.recoveredErrors.push(...errorAt('CompileError', d.node.nameSpan, message).entries);
      }
      return { parent: null, parts: [], attrs: new Map(), indexSignature: null };
    }
    def.resolving = true;
    this.resolvingSchemas.push(def);
    try {
      const node = def.node;
      const ctx = def.ctx;
      const parts: BodyPart<Ctx>[] = [];
      const attrs = new Map<string, AttrInfo>();
      let parent: Def | null = null;
      let indexSignature: ResolvedSchema<Ctx>['indexSignature'] = null;
      const parentName = node.kind === 'SchemaStmt' ? node.parent : (node.parents[0] ?? null);
      if (parentName) {
        const value = this.resolveQualified(parentName.names, ctx, parentName.span);
        // An invalid parent is reported and the schema goes on without it.
        const invalid = !(value instanceof SchemaDef)
          ? typeName(value)
          : value.isMixin || value.name.endsWith('Mixin')
            ? value.name
            : null;
        if (invalid !== null) {
          const message = `invalid schema inherit object type, expect schema, got '${invalid}'`;
          this.recoveredErrors.push(...errorAt('IllegalInheritError', parentName.span, message).entries);
        } else {
          const inherited = this.resolveSchema(value as Def);
          if (!(value as Def).onCycle) {
            parent = value as Def;
            parts.push(...inherited.parts);
            for (const [k, v] of inherited.attrs) attrs.set(k, v);
            indexSignature = inherited.indexSignature;
          }
        }
      }
      if (node.kind === 'SchemaStmt') {
        parts.push({ def, stmts: node.body, checks: node.checks });
        this.checkOverrides(node.body, ctx, attrs);
        this.collectAttrs(node.body, ctx, attrs);
        if (node.indexSignature) {
          const sig = node.indexSignature;
          indexSignature = {
            key: this.resolveType(sig.keyType, ctx),
            value: this.resolveType(sig.valueType, ctx),
            node: sig,
          };
          this.checkIndexSignature(node.body, attrs, indexSignature.value, sig, ctx);
        }
        for (const mixinName of node.mixins) {
          const mixin = this.resolveQualified(mixinName.names, ctx, mixinName.span);
          const mixinLast = mixinName.names[mixinName.names.length - 1]!;
          // A name not ending in `Mixin` was reported by the checker; the schema goes on without it.
          if (!mixinLast.endsWith('Mixin')) continue;
          if (!(mixin instanceof SchemaDef) || mixin.node.kind !== 'SchemaStmt') {
            throw errorAt(
              'IllegalInheritError',
              mixinName.span,
              `illegal schema mixin object type, expected mixin, got '${mixinLast}'`,
            );
          }
          parts.push({ def: mixin, stmts: mixin.node.body, checks: mixin.node.checks });
          this.collectAttrs(mixin.node.body, mixin.ctx, attrs);
        }
      } else {
        // A rule's attributes are its protocol's; its parent rules' checks run too.
        for (const parentRule of node.parents.slice(1)) {
          const other = this.resolveQualified(parentRule.names, ctx, parentRule.span);
          if (other instanceof SchemaDef) parts.push(...this.resolveSchema(other as Def).parts);
        }
        if (node.forHost) {
          const host = this.resolveQualified(node.forHost.names, ctx, node.forHost.span);
          if (host instanceof SchemaDef) {
            const hostInfo = this.resolveSchema(host as Def);
            for (const [k, v] of hostInfo.attrs) attrs.set(k, v);
            indexSignature ??= hostInfo.indexSignature;
          }
        }
        parts.push({ def, stmts: [], checks: node.checks });
      }
      def.resolved = { parent, parts, attrs, indexSignature };
      return def.resolved;
    } finally {
      def.resolving = false;
      this.resolvingSchemas.pop();
    }
  }

  /**
   * A schema may not make an inherited attribute optional or change its type. Violations
   * are reported and the evaluation goes on, as the checker does.
   */
  protected checkOverrides(stmts: ast.Stmt[], ctx: Ctx, inherited: ReadonlyMap<string, AttrInfo>): void {
    for (const stmt of stmts) {
      if (stmt.kind !== 'SchemaAttr') continue;
      const base = inherited.get(stmt.name);
      if (!base) continue;
      const type = this.resolveType(stmt.type, ctx);
      const message =
        stmt.optional && !base.optional
          ? `can't change the required schema attribute of '${stmt.name}' to optional`
          : typeText(type) !== typeText(base.type) && base.type.kind !== 'any'
            ? // The official message names the new type twice.
              `can't change schema field type of '${stmt.name}' from ${typeText(type)} to ${typeText(type)}`
            : null;
      if (message !== null) this.recoveredErrors.push(...errorAt('TypeError', stmt.span, message).entries);
    }
  }

  /** Declared attributes with a scalar type must fit the index signature's value type. */
  protected checkIndexSignature(
    stmts: ast.Stmt[],
    attrs: ReadonlyMap<string, AttrInfo>,
    valueType: KType,
    sig: ast.IndexSignature,
    ctx: Ctx,
  ): void {
    if (sig.anyOther || valueType.kind === 'any') return;
    const members = valueType.kind === 'union' ? valueType.types : [valueType];
    for (const stmt of stmts) {
      if (stmt.kind !== 'SchemaAttr') continue;
      const type = attrs.get(stmt.name)?.type;
      if (!type || !['bool', 'int', 'float', 'str'].includes(type.kind)) continue;
      if (members.some((m) => m.kind === type.kind)) continue;
      const key = `${sig.keyName ? `${sig.keyName}: ` : ''}${typeText(this.resolveType(sig.keyType, ctx))}`;
      throw errorAt(
        'IndexSignatureError',
        stmt.span,
        `the type '${typeText(type)}' of schema attribute '${stmt.name}' does not meet the index signature definition [${key}]: ${typeText(valueType)}`,
      );
    }
  }

  protected collectAttrs(
    stmts: ast.Stmt[],
    ctx: Ctx,
    attrs: Map<string, AttrInfo>,
    shadowing: ReadonlySet<string> = declaredAttrNames(stmts),
  ): void {
    for (const stmt of stmts) {
      if (stmt.kind === 'SchemaAttr') {
        attrs.set(stmt.name, {
          name: stmt.name,
          type: this.resolveAttrType(stmt.type, ctx, shadowing),
          optional: stmt.optional,
          span: stmt.nameSpan,
          annotation: stmt.type,
          decorators: stmt.decorators,
        });
      } else if (stmt.kind === 'IfStmt') {
        this.collectAttrs(stmt.body, ctx, attrs, shadowing);
        this.collectAttrs(stmt.orelse, ctx, attrs, shadowing);
      }
    }
  }

  /**
   * An attribute's type, where a plain name that is also an attribute of the same schema
   * (`ingress?: [ingress]`) is `any`: KCL v0.4.6 looked type names up in the schema's scope,
   * found the attribute there, and so never turned such values into the schema of that name
   * (Konfig's `AWSSecurityGroup.ingress` items keep their explicit `None`s, printed as null).
   */
  protected resolveAttrType(node: ast.TypeExpr, ctx: Ctx, shadowing: ReadonlySet<string>): KType {
    switch (node.kind) {
      case 'ListType':
        return { kind: 'list', elem: node.elem ? this.resolveAttrType(node.elem, ctx, shadowing) : ANY };
      case 'DictType':
        return {
          kind: 'dict',
          key: node.key ? this.resolveAttrType(node.key, ctx, shadowing) : ANY,
          value: node.value ? this.resolveAttrType(node.value, ctx, shadowing) : ANY,
        };
      case 'UnionType':
        return { kind: 'union', types: node.types.map((t) => this.resolveAttrType(t, ctx, shadowing)) };
      case 'NamedType':
        if (node.names.length === 1 && shadowing.has(node.names[0]!)) return ANY;
        return this.resolveType(node, ctx);
      default:
        return this.resolveType(node, ctx);
    }
  }

  instantiate(
    def: Def,
    positional: readonly KclValue[],
    keywords: ReadonlyMap<string, KclValue>,
    config: KclDict,
  ): KclSchema {
    this.tick();
    // Inside a config the instance may still be unified with more config, and an attribute's
    // value may still be replaced by a later statement (a mixin's): its required attributes
    // and checks are validated once the enclosing value is complete.
    const deferred = this.configs.depth > 0 || this.validationDeferred;
    const site = this.currentStmt;
    const savedDepth = this.configs.depth;
    const savedDeferred = this.validationDeferred;
    this.configs.depth = 0;
    this.validationDeferred = false;
    try {
      return this.build(def, positional, keywords, config, deferred, site);
    } finally {
      this.configs.depth = savedDepth;
      this.validationDeferred = savedDeferred;
    }
  }

  protected build(
    def: Def,
    positional: readonly KclValue[],
    keywords: ReadonlyMap<string, KclValue>,
    config: KclDict,
    deferred: boolean,
    site: ast.Node | null,
  ): KclSchema {
    const info = this.resolveSchema(def);
    for (let d: Def | null = def; d; d = d.resolved?.parent ?? null)
      this.checkDeprecated(d.node.decorators, d.name);
    const frame = new SchemaFrame(def, info, config);
    const params = this.bindSchemaArgs(def, positional, keywords);
    frame.lazy = new LazyBody<Ctx>(
      (setter) => this.runSchemaSetter(frame, setter),
      (stmt, ctx) => this.condition(stmt, ctx),
      (name) => this.finishUnification(frame.pending, frame.values, name, frame),
    );
    const contexts = info.parts.map((part) => {
      const ctx: Ctx = { pkg: part.def.ctx.pkg, file: part.def.node.span.file, locals: params, frame };
      this.registerSchemaBody(part.stmts, ctx, [], frame);
      return ctx;
    });
    this.registerConfig(frame, contexts[contexts.length - 1] ?? { ...def.ctx, frame });
    info.parts.forEach((part, i) => this.runBody(part.stmts, contexts[i]!, frame.lazy));
    for (const name of frame.lazy.setters.keys()) frame.lazy.ensure(name);

    const instance = new KclSchema(def.name, def.pkgpath === '__main__' ? '__main__' : def.pkgpath);
    for (const name of frame.order) instance.attrs.set(name, orUndefined(frame.values.get(name)));
    instance.runtime = { def, config, positional, keywords };
    const validate = () => {
      this.checkRequired(frame, instance, site);
      const keyName = info.indexSignature?.node.keyName;
      info.parts.forEach((part, i) => {
        const ctx = contexts[i]!;
        if (!keyName || frame.relaxed.length === 0) {
          for (const check of part.checks) this.runCheck(check, ctx, site);
          return;
        }
        // Checks naming the index signature's key run once per key it admits.
        for (const key of frame.relaxed) {
          const keyScope = new Scope(ctx.locals);
          keyScope.vars.set(keyName, key);
          for (const check of part.checks) this.runCheck(check, { ...ctx, locals: keyScope }, site);
        }
      });
    };
    if (deferred) {
      this.pendingValidation.set(instance, validate);
    } else {
      validate();
      this.validateNested(instance);
    }
    for (let d: Def | null = def; d; d = d.resolved?.parent ?? null)
      d.instances.push({ instance, pkgpath: this.currentPkg });
    return instance;
  }

  protected bindSchemaArgs(
    def: Def,
    positional: readonly KclValue[],
    keywords: ReadonlyMap<string, KclValue>,
  ): Scope {
    const scope = new Scope(null);
    const params = def.node.params;
    if (positional.length > params.length) {
      throw new KclRuntimeError(
        `"${def.name}" takes ${params.length} positional argument${params.length > 1 ? 's' : ''} but ${positional.length} were given`,
        'TypeError',
      );
    }
    for (const key of keywords.keys()) {
      if (!params.some((p) => p.name === key)) {
        throw new KclRuntimeError(`"${def.name}" got an unexpected keyword argument '${key}'`, 'TypeError');
      }
    }
    const mismatches: ArgumentMismatch[] = [];
    params.forEach((param, i) => {
      let value = i < positional.length ? positional[i] : keywords.get(param.name);
      if (value === undefined) value = param.default ? this.evalExpr(param.default, def.ctx) : null;
      value = this.convertArgument(param, value, i < positional.length ? i : param.name, def.ctx, mismatches);
      scope.vars.set(param.name, value);
    });
    if (mismatches.length > 0) throw new ArgumentTypeError(def, mismatches);
    return scope;
  }

  protected registerSchemaBody(stmts: ast.Stmt[], ctx: Ctx, branches: Branch[], frame: SchemaFrame): void {
    for (const stmt of stmts) {
      if (stmt.kind === 'IfStmt') {
        this.registerSchemaBody(stmt.body, ctx, [...branches, { stmt, taken: true }], frame);
        this.registerSchemaBody(stmt.orelse, ctx, [...branches, { stmt, taken: false }], frame);
        continue;
      }
      if (stmt.kind === 'SchemaAttr' && !frame.order.includes(stmt.name)) frame.order.push(stmt.name);
      for (const name of assignedNames(stmt)) {
        if (!frame.order.includes(name)) frame.order.push(name);
        frame.lazy.add({ name, stmt, branches, ctx });
      }
    }
  }

  /** Config entries become the last setter of their attribute; unknown keys are errors. */
  protected registerConfig(frame: SchemaFrame, ctx: Ctx): void {
    const origins = this.configs.origins.get(frame.config);
    for (const key of frame.config.entries.keys()) {
      const known = frame.info.attrs.has(key) || frame.lazy.has(key);
      if (!known && !frame.info.indexSignature) {
        const message = cannotAddMember(key, frame.def.name, frame.info.attrs.keys());
        const at = origins?.get(key)?.span;
        if (at) throw errorAt('CompileError', at, message);
        throw new KclRuntimeError(message, 'CompileError');
      }
      if (!known) frame.relaxed.push(key);
      if (!frame.order.includes(key)) frame.order.push(key);
      frame.lazy.add({ name: key, stmt: null, branches: [], ctx });
    }
  }

  protected runSchemaSetter(frame: SchemaFrame, setter: Setter<Ctx>): void {
    const { name, stmt, ctx } = setter;
    const attr = frame.info.attrs.get(name);
    const types = new Map<string, KType>();
    if (attr) types.set(name, attr.type);
    else if (frame.info.indexSignature && !name.startsWith('_'))
      types.set(name, frame.info.indexSignature.value);
    if (stmt) {
      // A default the config replaces (`attr = v`) is never evaluated.
      const overridden = frame.config.meta?.get(name);
      if (
        stmt.kind === 'SchemaAttr' &&
        overridden?.operation === 'override' &&
        overridden.index === undefined
      ) {
        if (attr && stmt.value) this.checkConfigKeys(stmt.value, attr.type, ctx);
        return;
      }
      if (stmt.kind === 'SchemaAttr' && stmt.value?.kind === 'SchemaExpr' && attr?.type.kind === 'schema') {
        // The type checker knows a schema expression's type: it must be the attribute's schema or a child.
        const built = this.schemaByName(stmt.value.name, ctx);
        let ok = false;
        for (let d: Def | null = built; d && !ok; d = this.resolveSchema(d).parent)
          ok = d.node === (attr.type.schema as Def).node;
        if (!ok)
          throw errorAt('TypeError', stmt.span, `expected ${attr.type.schema.name}, got ${built.name}`);
      }
      if (stmt.kind === 'SchemaAttr' && stmt.value?.kind === 'SchemaExpr' && this.joinsConfig(frame, name)) {
        frame.deferred.set(name, { expr: stmt.value, ctx });
        return;
      }
      frame.deferred.delete(name);
      // Only the attribute's final value is validated: a value its last statement replaces
      // (a mixin's runs after the body) may lack required attributes.
      const last = frame.lazy.setters.get(name)?.at(-1) === setter;
      this.guard(stmt, ctx, () => {
        const saved = this.validationDeferred;
        this.validationDeferred = !last;
        try {
          this.assign(name, stmt, ctx, frame.values, types, frame.pending);
        } finally {
          this.validationDeferred = saved;
        }
      });
      return;
    }
    const incoming = frame.config.entries.get(name)!;
    const operation = frame.config.meta?.get(name)?.operation ?? 'union';
    const sig = frame.info.indexSignature;
    if (attr && !isNoneOrUndefined(incoming)) this.checkDeprecated(attr.decorators, name);
    let value: KclValue;
    const deferred = frame.deferred.get(name);
    if (deferred) {
      value = this.guard(deferred.expr, deferred.ctx, () =>
        this.buildJoined(deferred.expr, deferred.ctx, incoming as KclDict),
      );
    } else if (!attr && sig?.node.value && frame.relaxed.includes(name) && operation !== 'override') {
      // An index signature's default applies to each key it admits (unless the config
      // replaces it with `=`), with the key bound to its name.
      const keyScope = new Scope(ctx.locals);
      if (sig.node.keyName) keyScope.vars.set(sig.node.keyName, name);
      const keyCtx: Ctx = { ...ctx, locals: keyScope };
      const fallback = sig.node.value;
      if (fallback.kind === 'SchemaExpr' && isDictValue(incoming) && operation === 'union') {
        value = this.buildJoined(fallback, keyCtx, incoming);
      } else {
        const base = this.evalExpr(fallback, keyCtx);
        // The default is merged into the config's entry, whose line errors are reported at.
        const entry = this.configs.origins.get(frame.config)?.get(name);
        if (entry) this.reachLine(entry.span);
        value = this.configs.mergeEntry(base, incoming, operation, undefined);
      }
    } else {
      value = this.configs.mergeEntry(
        frame.values.get(name),
        incoming,
        operation,
        frame.config.meta?.get(name)?.index,
      );
    }
    const type = types.get(name);
    if (type) {
      // A value set with `=` for a key the index signature admits is typed at runtime only.
      if (!attr && frame.relaxed.includes(name) && operation === 'override')
        this.checkDictFitsSchema(value, type);
      const origin = this.configs.origins.get(frame.config)?.get(name);
      value = this.convertTo(value, type, origin?.span ?? null, origin?.value ?? null, attr);
    }
    frame.values.set(name, value);
  }

  /** True when the config unifies a dict into attribute `name`. */
  protected joinsConfig(frame: SchemaFrame, name: string): boolean {
    const incoming = frame.config.entries.get(name);
    const meta = frame.config.meta?.get(name);
    return incoming !== undefined && isDictValue(incoming) && (meta?.operation ?? 'union') === 'union';
  }

  /** `Schema {...}` joined with a config before it is built, so both count for its checks. */
  protected buildJoined(expr: ast.SchemaExpr, ctx: Ctx, incoming: KclDict): KclValue {
    const def = this.schemaByName(expr.name, ctx);
    const config = this.configs.mergeConfigs(this.configs.evalConfig(expr.config, ctx, true), incoming);
    return this.instantiate(
      def,
      expr.args.map((a) => this.evalExpr(a, ctx)),
      this.evalKeywords(expr.keywords, ctx),
      config,
    );
  }

  /** The type checker's view of a config literal assigned to a schema: every key must exist. */
  protected checkConfigKeys(expr: ast.Expr, type: KType, ctx: Ctx): void {
    if (expr.kind !== 'ConfigExpr' || type.kind !== 'schema' || !(type.schema instanceof SchemaDef)) return;
    this.checkSchemaKeys(expr.items, type.schema as Def, ctx);
  }

  /**
   * The type checker's view of a config written for a schema, whether or not its `if`
   * branches run: every literal key must be an attribute and every literal value must fit
   * its attribute's type, in the configs nested for schema-typed attributes too. Every such
   * error is reported, as the checker lists them all.
   */
  protected checkSchemaKeys(items: readonly ast.ConfigItem[], def: Def, ctx: Ctx): void {
    const found: DiagnosticEntry[] = [];
    this.checkConfigItems(items, def, ctx, found);
    if (found.length > 0) throw new KclDiagnostic(found);
  }

  /** `owner`: the attribute the config is written for, shown for values the index signature admits. */
  private checkConfigItems(
    items: readonly ast.ConfigItem[],
    def: Def,
    ctx: Ctx,
    found: DiagnosticEntry[],
    owner: AttrInfo | null = null,
  ): void {
    const info = this.resolveSchema(def);
    for (const item of items) {
      if (item.kind === 'ConfigIfEntry') {
        this.checkConfigItems(item.body, def, ctx, found, owner);
        this.checkConfigItems(item.orelse ?? [], def, ctx, found, owner);
        continue;
      }
      if (item.key === null && item.value.kind === 'Identifier' && isPackageVariable(item.value.name, ctx)) {
        const unpacked = this.evalExpr(item.value, ctx);
        if (isDictValue(unpacked)) this.checkUnpackedEntries(item.value, unpacked, def, found);
        continue;
      }
      if (item.key === null || (item.key.kind !== 'QualifiedName' && item.key.kind !== 'StringLit')) continue;
      const key = firstKeyName(item.key);
      if (key === null) continue;
      let attr = info.attrs.get(key);
      const signature = info.indexSignature;
      if (!attr && signature && !bodyAssigns(info, key)) {
        // A key the index signature admits: its value must fit the signature's value type.
        if (item.key.kind === 'StringLit' || item.key.names.length === 1)
          this.checkConfigValue(item, signature.value, owner, ctx, found);
        continue;
      }
      if (!attr && !bodyAssigns(info, key)) {
        const message = cannotAddMember(key, def.name, info.attrs.keys());
        found.push(...errorAt('CompileError', item.key.span, message).entries);
        continue;
      }
      if (item.key.kind === 'QualifiedName' && item.key.names.length > 1) {
        const nested = this.nestedKeyAttr(item.key, attr?.type);
        if ('error' in nested) {
          found.push(...nested.error);
          continue;
        }
        attr = nested.attr;
      }
      if (attr) this.checkConfigValue(item, attr.type, attr, ctx, found);
    }
  }

  /**
   * A literal value must fit its type; a config or schema expression for a schema is checked
   * in turn, and so are those in a list. `attr`, when the type is an attribute's, is shown
   * as a second label.
   */
  private checkConfigValue(
    item: ast.ConfigEntry,
    type: KType,
    attr: AttrInfo | null,
    ctx: Ctx,
    found: DiagnosticEntry[],
  ): void {
    const { value } = item;
    const mismatch = (got: string) => {
      const expected = checkerTypeText(type);
      const labels = [labelAt(item.key!.span, `expected ${expected}, got ${got}`)];
      if (attr)
        labels.push(labelAt(attr.span, `variable is defined here, its type is ${expected}, but got ${got}`));
      found.push(...diagnostic('TypeError', labels).entries);
    };
    if (value.kind === 'ConfigExpr' || value.kind === 'SchemaExpr') {
      this.checkNestedConfig(value, type, ctx, found, attr);
      return;
    }
    if (value.kind === 'ListExpr') {
      const elem = type.kind === 'list' ? type.elem : null;
      for (const element of value.elts) if (elem) this.checkNestedConfig(element, elem, ctx, found, null);
      // To the checker a schema instance is not a dict.
      const schemas = value.elts.flatMap((e) => (e.kind === 'SchemaExpr' ? [e.name.names.at(-1)!] : []));
      if (elem?.kind === 'dict' && schemas.length > 0 && schemas.length === value.elts.length)
        mismatch(`[${[...new Set(schemas)].join(' | ')}]`);
      return;
    }
    if (value.kind !== 'StringLit' && value.kind !== 'NumberLit' && value.kind !== 'NameConstant') return;
    const v = this.evalConstant(value);
    // An int may stand for a float literal type here; only the runtime check rejects it.
    if (convert(v, type) !== MISMATCH || (typeof v === 'bigint' && admitsFloatLiteral(type))) return;
    mismatch(valueTypeText(v));
  }

  /**
   * `**name` in a config for a schema: the checker knows the entries of the dict the name
   * holds and checks them as if written here. It reports them at the unpacked name, with
   * where each entry was written as a further label, and gives literal values their plain
   * type, as a variable's type is inferred.
   */
  private checkUnpackedEntries(
    unpacked: ast.Identifier,
    dict: KclDict,
    def: Def,
    found: DiagnosticEntry[],
  ): void {
    const info = this.resolveSchema(def);
    const origins = this.configs.origins.get(dict);
    for (const [key, value] of dict.entries) {
      const origin = origins?.get(key);
      if (!origin) continue;
      const written = labelAt(origin.span, 'config attribute is defined here');
      const attr = info.attrs.get(key);
      if (!attr) {
        if (info.indexSignature || bodyAssigns(info, key)) continue;
        const message = cannotAddMember(key, def.name, info.attrs.keys());
        found.push(...diagnostic('CompileError', [labelAt(unpacked.span, message), written]).entries);
      } else if (isDictValue(value) && attr.type.kind === 'schema' && attr.type.schema instanceof SchemaDef) {
        this.checkUnpackedEntries(unpacked, value, attr.type.schema as Def, found);
      } else if (isLiteralExpr(origin.value) && convert(value, attr.type) === MISMATCH) {
        const expected = checkerTypeText(attr.type);
        const got = plainTypeText(value);
        const labels = [
          labelAt(unpacked.span, `expected ${expected}, got ${got}`),
          labelAt(attr.span, `variable is defined here, its type is ${expected}, but got ${got}`),
          written,
        ];
        found.push(...diagnostic('TypeError', labels).entries);
      }
    }
  }

  /** A config written for a schema-typed value (of `owner`), or a schema expression, is checked in turn. */
  private checkNestedConfig(
    expr: ast.Expr,
    type: KType,
    ctx: Ctx,
    found: DiagnosticEntry[],
    owner: AttrInfo | null,
  ): void {
    if (expr.kind === 'SchemaExpr') {
      const named = this.resolveQualified(expr.name.names, ctx, expr.name.span);
      if (named instanceof SchemaDef) this.checkConfigItems(expr.config.items, named as Def, ctx, found);
    } else if (expr.kind === 'ConfigExpr' && type.kind === 'schema' && type.schema instanceof SchemaDef) {
      this.checkConfigItems(expr.items, type.schema as Def, ctx, found, owner);
    }
  }

  /**
   * `a.b.c` in a config: each later name must be an attribute of the schema (or of one of
   * the schemas of a union) the previous name's declared type names. Gives the last name's
   * attribute when the path leads through single schemas.
   */
  private nestedKeyAttr(
    key: ast.QualifiedName,
    type: KType | undefined,
  ): { attr: AttrInfo | undefined } | { error: DiagnosticEntry[] } {
    let column = key.span.column + key.names[0]!.length + 1;
    let attr: AttrInfo | undefined;
    for (const name of key.names.slice(1)) {
      const members = type?.kind === 'union' ? type.types : type ? [type] : [];
      const defs = members.flatMap((t) =>
        t.kind === 'schema' && t.schema instanceof SchemaDef ? [t.schema as Def] : [],
      );
      if (defs.length === 0 || defs.length !== members.length) return { attr: undefined };
      const infos = defs.map((d) => this.resolveSchema(d));
      if (infos.some((i) => i.indexSignature || i.attrs.has(name) || bodyAssigns(i, name))) {
        attr = infos.length === 1 ? infos[0]!.attrs.get(name) : undefined;
        type = attr?.type;
        column += name.length + 1;
        continue;
      }
      const owner =
        defs.length === 1
          ? `schema '${defs[0]!.name}'`
          : `'schemas ${JSON.stringify(defs.map((d) => d.name)).replace(/,/g, ', ')}'`;
      const at = { ...key.span, column, endColumn: column + name.length };
      return { error: errorAt('CompileError', at, `Cannot add member '${name}' to ${owner}`).entries };
    }
    return { attr };
  }

  /** `instance | config`: the schema is built again from the merged config, so checks rerun. */
  mergeIntoSchema(instance: KclSchema, incoming: KclDict | KclSchema): KclValue {
    const origin = originOf<Ctx>(instance);
    if (!origin) return union(deepCopy(instance), incoming);
    const incomingOrigin = isSchema(incoming) ? originOf<Ctx>(incoming) : undefined;
    const extra = isSchema(incoming)
      ? (incomingOrigin?.config ?? new KclDict(new Map(incoming.attrs)))
      : incoming;
    const config = this.configs.mergeConfigs(deepCopy(origin.config), extra);
    // Merging two instances takes the right-hand one's schema arguments.
    const args = incomingOrigin ?? origin;
    return this.instantiate(origin.def, args.positional, args.keywords, config);
  }

  /** Runs the deferred validation of every instance inside `value`. */
  protected validateNested(value: KclValue): void {
    if (typeof value !== 'object' || value === null) return;
    if (value.kind === 'list') {
      for (const item of value.items) this.validateNested(item);
    } else if (value.kind === 'dict' || value.kind === 'schema') {
      if (value.kind === 'schema') {
        const validate = this.pendingValidation.get(value);
        this.pendingValidation.delete(value);
        validate?.();
      }
      for (const item of configEntries(value).values()) this.validateNested(item);
    }
  }

  protected checkRequired(frame: SchemaFrame, instance: KclSchema, site: ast.Node | null): void {
    for (const attr of frame.info.attrs.values()) {
      if (attr.optional) continue;
      const value = instance.attrs.get(attr.name);
      if (value === undefined || isNoneOrUndefined(value)) {
        const message = `attribute '${attr.name}' of ${frame.def.name} is required and can't be None or Undefined`;
        // Reported on the line of the schema expression being built, when known.
        if (site?.kind === 'SchemaExpr') throw diagnostic('EvaluationError', [lineLabel(site.span, message)]);
        throw new KclRuntimeError(message);
      }
    }
  }

  protected runCheck(check: ast.CheckExpr, ctx: Ctx, site: ast.Node | null): void {
    const ok = this.guard(check, ctx, () => {
      if (check.ifCond && !truthy(this.evalExpr(check.ifCond, ctx))) return true;
      return truthy(this.evalExpr(check.test, ctx));
    });
    if (ok) return;
    const msg = check.msg ? this.guard(check, ctx, () => this.str(this.evalExpr(check.msg!, ctx))) : '';
    const at = site;
    // The official tool points at the check's last line.
    const end = { ...check.span, line: check.span.endLine };
    const labels = [
      lineLabel(end, msg ? `Check failed on the condition: ${msg}` : 'Check failed on the condition'),
    ];
    if (at) labels.unshift(labelAt(at.span, 'Instance check failed'));
    throw diagnostic('EvaluationError', labels);
  }

  protected checkDeprecated(decorators: ast.Decorator[], name: string): void {
    for (const decorator of decorators) {
      const decoratorName = decorator.name.names.join('.');
      if (decoratorName === 'info') continue;
      if (decoratorName !== 'deprecated') {
        throw errorAt('CompileError', decorator.name.span, `UnKnown decorator ${decoratorName}`);
      }
      const kw = new Map<string, KclValue>();
      for (const k of decorator.keywords) kw.set(k.name, this.evalConstant(k.value));
      const args = (decorator.args ?? []).map((a) => this.evalConstant(a));
      const version = args[0] ?? kw.get('version') ?? '';
      const reason = args[1] ?? kw.get('reason') ?? '';
      const strict = args[2] ?? kw.get('strict') ?? true;
      let message = `${name} was deprecated `;
      if (version) message += `since version ${this.str(version)}`;
      if (reason) message += `, ${this.str(reason)}`;
      if (truthy(strict)) throw new KclRuntimeError(message);
    }
  }

  /** Decorator arguments are literals; they are evaluated without a scope. */
  protected evalConstant(expr: ast.Expr): KclValue {
    switch (expr.kind) {
      case 'StringLit':
        return expr.value;
      case 'NumberLit':
        return this.evalNumber(expr);
      case 'NameConstant':
        return nameConstant(expr.value);
      default:
        throw errorAt('CompileError', expr.span, 'decorator arguments must be literals');
    }
  }

  protected schemaByName(name: ast.QualifiedName, ctx: Ctx): Def {
    const value = this.resolveQualified(name.names, ctx, name.span);
    if (value instanceof SchemaDef) return value;
    throw errorAt('TypeError', name.span, `'${name.names.join('.')}' is not a schema`);
  }

  protected evalSchemaExpr(expr: ast.SchemaExpr, ctx: Ctx): KclValue {
    const named = this.resolveQualified(expr.name.names, ctx, expr.name.span);
    if (isConfig(named)) {
      // `instance {...}` / `dict {...}`: unify the value with the config.
      const config = this.configs.evalConfig(expr.config, ctx, true);
      return isSchema(named)
        ? this.mergeIntoSchema(named, config)
        : this.configs.mergeConfigs(deepCopy(named), config);
    }
    const def = this.schemaByName(expr.name, ctx);
    this.checkSchemaKeys(expr.config.items, def, ctx);
    const positional = expr.args.map((a) => this.evalExpr(a, ctx));
    const keywords = this.evalKeywords(expr.keywords, ctx);
    checkArity(def.node.params, positional, keywords, expr.name.span);
    const config = this.configs.evalConfig(expr.config, ctx, true);
    const saved = this.currentStmt;
    this.currentStmt = expr;
    this.reachLine(expr.span);
    try {
      return this.instantiate(def, positional, keywords, config);
    } catch (error) {
      if (error instanceof ArgumentTypeError && error.callee === def)
        throw argumentError(error, expr.args, expr.keywords);
      throw error;
    } finally {
      this.currentStmt = saved;
    }
  }
}

/** Names of the attributes a schema body declares, in `if` blocks too. */
function declaredAttrNames(stmts: ast.Stmt[], names = new Set<string>()): Set<string> {
  for (const stmt of stmts) {
    if (stmt.kind === 'SchemaAttr') names.add(stmt.name);
    else if (stmt.kind === 'IfStmt') {
      declaredAttrNames(stmt.body, names);
      declaredAttrNames(stmt.orelse, names);
    }
  }
  return names;
}

/** A name assigned at package level and not hidden by a local: its inferred type is its value's. */
function isPackageVariable(name: string, ctx: Ctx): boolean {
  for (let scope = ctx.locals; scope; scope = scope.parent) if (scope.vars.has(name)) return false;
  return ctx.pkg.lazy.has(name);
}
