/**
 * Config values: building a dict from a config expression, with each entry's operation
 * (`:` union, `=` override, `+=` insert) kept for later unification, and merging configs
 * into configs and into the values they configure.
 */
import type * as ast from '../ast.ts';
import type { DiagnosticEntry } from '../diagnostics.ts';
import {
  KclDict,
  KclList,
  KclRuntimeError,
  configEntries,
  deepCopy,
  isConfig,
  isList,
  isNoneOrUndefined,
  isSchema,
  toStr,
  truthy,
  typeName,
  type ConfigEntryOperation,
  type KclSchema,
  type KclValue,
} from '../values.ts';
import { Scope, orUndefined, type Ctx, type EntryOrigin } from './context.ts';
import { errorAt } from './errors.ts';
import { firstKeyName, isIntLiteral, keyNames } from './syntax.ts';
import { valueTypeText } from './types.ts';

/** What config building needs from the evaluator. */
export interface ConfigHost {
  evalExpr(expr: ast.Expr, ctx: Ctx): KclValue;
  /** `instance | config`: the instance rebuilt from its merged config. */
  mergeIntoSchema(instance: KclSchema, incoming: KclDict | KclSchema): KclValue;
  str(value: KclValue): string;
  /** Records the line being evaluated, where a later runtime error is reported. */
  reachLine(span: ast.Span): void;
  /** Reports compile errors the evaluation goes on past. */
  recover(entries: readonly DiagnosticEntry[]): void;
}

const OPERATION_OF: Record<ast.ConfigOp, ConfigEntryOperation> = {
  ':': 'union',
  '=': 'override',
  '+=': 'insert',
};

export class Configs {
  private readonly host: ConfigHost;
  /** Where each config entry was written, for errors about it. */
  readonly origins = new WeakMap<KclDict, Map<string, EntryOrigin>>();
  /** How deep evaluation is inside config expressions: schemas built there validate later. */
  depth = 0;

  constructor(host: ConfigHost) {
    this.host = host;
  }

  /** `forSchema`: the config is a schema's, whose attributes may supply lists that `a[i] = v` targets. */
  evalConfig(expr: ast.ConfigExpr, ctx: Ctx, forSchema = false): KclDict {
    const dict = new KclDict(new Map(), new Map());
    const scope = new Scope(ctx.locals, true);
    const inner: Ctx = { ...ctx, locals: scope };
    this.depth++;
    try {
      // Later entries may refer to keys written before them.
      for (const item of expr.items) this.addConfigItem(dict, item, inner, forSchema, scope);
    } finally {
      this.depth--;
    }
    return dict;
  }

  /** `scope` receives each written key, so that later entries can refer to it. */
  addConfigItem(
    dict: KclDict,
    item: ast.ConfigItem,
    ctx: Ctx,
    forSchema = false,
    scope: Scope | null = null,
  ): void {
    if (item.kind === 'ConfigIfEntry') {
      const branch = truthy(this.host.evalExpr(item.cond, ctx)) ? item.body : item.orelse;
      for (const inner of branch ?? []) this.addConfigItem(dict, inner, ctx, forSchema, scope);
      return;
    }
    this.addConfigEntry(dict, item, ctx, forSchema);
    // Keys from `**` unpacking are not visible as names.
    const key = firstKeyName(item.key);
    if (scope && key !== null) scope.vars.set(key, orUndefined(dict.entries.get(key)));
  }

  private addConfigEntry(dict: KclDict, item: ast.ConfigEntry, ctx: Ctx, forSchema: boolean): void {
    this.host.reachLine(item.span);
    const value = this.host.evalExpr(item.value, ctx);
    if (item.key === null) {
      if (isNoneOrUndefined(value)) return;
      if (!isConfig(value)) {
        throw new KclRuntimeError(
          `only dict and schema can be used ** unpack, got '${typeName(value)}'`,
          'TypeError',
        );
      }
      const origins = this.origins.get(value as KclDict);
      for (const [k, v] of configEntries(value)) {
        // Unpacked entries keep the operation they were written with.
        const meta = value.meta?.get(k);
        this.setEntry(dict, k, meta?.operation ?? 'union', v, meta?.index, {
          span: item.value.span,
          value: item.value,
        });
        if (origins?.has(k)) this.originsOf(dict).set(k, origins.get(k)!);
      }
      return;
    }
    let names: string[];
    let operation = OPERATION_OF[item.op];
    let index: number | undefined;
    if (item.key.kind === 'QualifiedName') names = item.key.names;
    else if (item.key.kind === 'StringLit') names = [item.key.value];
    else if (
      item.key.kind === 'SubscriptExpr' &&
      keyNames(item.key.value) !== null &&
      isIntLiteral(item.key.index)
    ) {
      // `arr[i] = v` / `arr[i] += v`: the operation targets one list position.
      names = keyNames(item.key.value)!;
      index = Number(this.host.evalExpr(item.key.index, ctx));
    } else {
      const key = this.host.evalExpr(item.key, ctx);
      if (typeof key !== 'string') {
        // Reported, and the key is read as its text, as the checker goes on past it.
        const message = `A attribute must be string type, got '${valueTypeText(key)}'`;
        this.host.recover(errorAt('IllegalAttributeError', item.key.span, message).entries);
      }
      names = [toStr(key)];
    }
    let entryValue = value;
    // `a.b.c: v` is `a: {b: {c: v}}` with the operation applied innermost.
    for (let i = names.length - 1; i > 0; i--) {
      const nested = new KclDict(
        new Map([[names[i]!, entryValue]]),
        new Map([[names[i]!, { operation, ...(index === undefined ? {} : { index }) }]]),
      );
      entryValue = nested;
      operation = 'union';
      index = undefined;
    }
    if (index !== undefined && !forSchema && !dict.entries.has(names[0]!)) {
      throw new KclRuntimeError(
        operation === 'insert'
          ? 'index out of bounds'
          : `only list attribute can be override value with the index ${index}`,
      );
    }
    this.setEntry(dict, names[0]!, operation, entryValue, index, { span: item.key.span, value: item.value });
  }

  private originsOf(dict: KclDict): Map<string, EntryOrigin> {
    let origins = this.origins.get(dict);
    if (!origins) this.origins.set(dict, (origins = new Map()));
    return origins;
  }

  private setEntry(
    dict: KclDict,
    key: string,
    operation: ConfigEntryOperation,
    value: KclValue,
    index: number | undefined,
    origin: EntryOrigin,
  ): void {
    const current = dict.entries.get(key);
    const meta = dict.meta ?? (dict.meta = new Map());
    if (!this.originsOf(dict).has(key)) this.originsOf(dict).set(key, origin);
    if (current === undefined) {
      dict.entries.set(key, value);
      meta.set(key, index === undefined ? { operation } : { operation, index });
      return;
    }
    const previous = meta.get(key)?.operation ?? 'union';
    if (operation === 'override') {
      dict.entries.set(key, this.mergeEntry(current, value, operation, index));
      if (index === undefined) meta.set(key, { operation });
    } else if (operation === 'insert') {
      dict.entries.set(key, this.mergeEntry(current, value, 'insert', index));
      if (previous !== 'override')
        meta.set(key, { operation: previous === 'union' && isList(current) ? 'insert' : previous });
    } else {
      dict.entries.set(key, this.mergeEntry(current, value, 'union', index));
    }
  }

  /**
   * Merges config `extra` into `base` in place, entry by entry with each entry's operation,
   * keeping the operations so the result still applies correctly to schema defaults.
   */
  mergeConfigs(base: KclDict, extra: KclDict | KclSchema): KclDict {
    const meta = base.meta ?? (base.meta = new Map());
    for (const [key, value] of configEntries(extra)) {
      const entryMeta = extra.meta?.get(key);
      const operation = entryMeta?.operation ?? 'union';
      const current = base.entries.get(key);
      if (current === undefined) {
        base.entries.set(key, value);
        if (entryMeta) meta.set(key, entryMeta);
        continue;
      }
      base.entries.set(
        key,
        operation === 'union'
          ? this.unionValues(current, value)
          : this.mergeEntry(current, value, operation, entryMeta?.index),
      );
      if (operation === 'override' && entryMeta?.index === undefined) meta.set(key, { operation });
    }
    const origins = this.origins.get(extra as KclDict);
    if (origins)
      for (const [k, o] of origins) if (!this.originsOf(base).has(k)) this.originsOf(base).set(k, o);
    return base;
  }

  unionValues(current: KclValue, incoming: KclValue): KclValue {
    if (isNoneOrUndefined(incoming)) return current;
    if (isList(current) && isList(incoming)) {
      // Lists unify position by position.
      const items = incoming.items.map((item, i) =>
        i < current.items.length ? this.unionValues(current.items[i]!, item) : item,
      );
      return new KclList([...items, ...current.items.slice(items.length)]);
    }
    if (isSchema(current) && isConfig(incoming)) return this.host.mergeIntoSchema(current, incoming);
    if (isConfig(current) && isConfig(incoming))
      return this.mergeConfigs(deepCopy(current) as KclDict, incoming);
    return incoming;
  }

  /** Applies one config entry (`:` union, `=` override, `+=` insert) to an attribute's value. */
  mergeEntry(
    current: KclValue | undefined,
    incoming: KclValue,
    operation: ConfigEntryOperation,
    index: number | undefined,
  ): KclValue {
    if (current === undefined || isNoneOrUndefined(current)) return incoming;
    if (operation === 'override') {
      if (index === undefined || !isList(current)) return incoming;
      const items = [...current.items];
      const at = index < 0 ? index + items.length : index;
      if (at < 0 || at >= items.length) {
        throw new KclRuntimeError(
          `index out of bounds: the len is ${items.length} but the index is ${index}`,
        );
      }
      items[at] = incoming;
      return new KclList(items);
    }
    if (operation === 'insert') {
      if (isList(current) && isList(incoming)) {
        const at = index !== undefined && index < 0 ? index + current.items.length : index;
        if (at !== undefined && (at > current.items.length || at < 0)) {
          throw new KclRuntimeError(
            `insertion index (is ${index}) should be <= len (is ${current.items.length})`,
          );
        }
        const items = [...current.items];
        items.splice(at ?? items.length, 0, ...incoming.items);
        return new KclList(items);
      }
      return incoming;
    }
    if (index !== undefined && isList(current)) {
      // `a[i]: v` unifies one item.
      const items = [...current.items];
      const at = index < 0 ? index + items.length : index;
      if (at < 0 || at >= items.length) {
        throw new KclRuntimeError(
          `index out of bounds: the len is ${items.length} but the index is ${index}`,
        );
      }
      items[at] = this.unionValues(items[at]!, incoming);
      return new KclList(items);
    }
    return this.unionValues(current, incoming);
  }
}
