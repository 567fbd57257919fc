/**
 * Order-independent evaluation of a statement body (a package's top level or a schema
 * body). KCL lets a name be used before the statements that set it, and a reference
 * always sees the name's final value. Each name keeps the list of its setters (the
 * statements assigning it, with the `if` branches around them); a reference runs the
 * setters not run yet, and the ordinary top-to-bottom pass only runs what is left.
 */
import type * as ast from '../ast.ts';

/** The `if` branches a setter sits in, outermost first. */
export interface Branch {
  stmt: ast.IfStmt;
  /** True for the `if` body, false for the `else` part. */
  taken: boolean;
}

export interface Setter<C> {
  name: string;
  /** The assigning statement; null for a value that comes from outside (a schema's config). */
  stmt: ast.Stmt | null;
  branches: Branch[];
  /** Where the statement evaluates (file, package, schema frame ...). */
  ctx: C;
}

export class LazyBody<C> {
  readonly setters = new Map<string, Setter<C>[]>();
  /** For each setter statement, the (name, index) pairs it was registered under. */
  readonly byStmt = new Map<ast.Stmt, [string, number][]>();
  private readonly progress = new Map<string, number>();
  private readonly active = new Set<string>();
  private readonly conditions = new Map<ast.IfStmt, boolean>();
  private readonly runSetter: (setter: Setter<C>) => void;
  private readonly evalCondition: (stmt: ast.IfStmt, ctx: C) => boolean;
  private readonly onComplete: (name: string) => void;

  /** `onComplete` runs once a name's last setter has run (unification finishes there). */
  constructor(
    runSetter: (setter: Setter<C>) => void,
    evalCondition: (stmt: ast.IfStmt, ctx: C) => boolean,
    onComplete: (name: string) => void,
  ) {
    this.runSetter = runSetter;
    this.evalCondition = evalCondition;
    this.onComplete = onComplete;
  }

  add(setter: Setter<C>): void {
    let list = this.setters.get(setter.name);
    if (!list) this.setters.set(setter.name, (list = []));
    list.push(setter);
    if (setter.stmt === null) return;
    let pairs = this.byStmt.get(setter.stmt);
    if (!pairs) this.byStmt.set(setter.stmt, (pairs = []));
    pairs.push([setter.name, list.length - 1]);
  }

  has(name: string): boolean {
    return this.setters.has(name);
  }

  /** True while `name`'s own setters run: a reference then sees the value so far. */
  isActive(name: string): boolean {
    return this.active.has(name);
  }

  /** Runs the setters of `name` up to index `upto` (all by default) that have not run. */
  ensure(name: string, upto = Number.MAX_SAFE_INTEGER): void {
    const list = this.setters.get(name);
    if (!list || this.active.has(name)) return;
    let next = this.progress.get(name) ?? 0;
    const end = Math.min(upto + 1, list.length);
    if (next >= end) return;
    this.active.add(name);
    try {
      for (; next < end; next++) {
        this.progress.set(name, next + 1);
        const setter = list[next];
        if (setter && this.branchesTaken(setter)) this.runSetter(setter);
      }
    } finally {
      this.active.delete(name);
    }
    if (end === list.length) this.onComplete(name);
  }

  /**
   * Runs every setter registered for `stmt`, as the top-to-bottom pass reaches it. A plain
   * assignment already run because its name was used earlier runs again, as in the official
   * evaluator (schema instances it builds are counted twice by `instances()`); only a name's
   * last setter is rerun, so the value cannot change.
   */
  runStmt(stmt: ast.Stmt): void {
    for (const [name, index] of this.byStmt.get(stmt) ?? []) {
      const list = this.setters.get(name)!;
      const ranEarly = (this.progress.get(name) ?? 0) > index && !this.active.has(name);
      const setter = list[index]!;
      if (ranEarly && index === list.length - 1 && stmt.kind === 'AssignStmt' && this.branchesTaken(setter)) {
        this.runSetter(setter);
      } else {
        this.ensure(name, index);
      }
    }
  }

  /** An `if` condition, evaluated once per body. */
  condition(stmt: ast.IfStmt, ctx: C): boolean {
    let value = this.conditions.get(stmt);
    if (value === undefined) {
      value = this.evalCondition(stmt, ctx);
      this.conditions.set(stmt, value);
    }
    return value;
  }

  private branchesTaken(setter: Setter<C>): boolean {
    return setter.branches.every((b) => this.condition(b.stmt, setter.ctx) === b.taken);
  }
}
