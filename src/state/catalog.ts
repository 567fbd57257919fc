/**
 * The package catalog, `state.db` inside a package: a plain SQLite 3 file (schema version
 * in PRAGMA user_version) that says what the package delivers: stacks, their resources
 * and dependencies, images, and the validation results of the build. Built and read in
 * memory with sql.js; any SQLite can open it.
 */
import type { Database, SqlValue } from 'sql.js';
import { KdeliverError, messageOf } from '../errors.ts';
import { loadSqlJs } from './sqlite.ts';

export const CATALOG_SCHEMA_VERSION = 1;

export interface CatalogResource {
  /** Unique within its stack, e.g. `apps/v1/Deployment/shop/web`. */
  id: string;
  kind: string;
  namespace: string | null;
  /** Ids of resources in the same stack that must be applied first. */
  dependsOn: string[];
  /** The entry under specs/ holding the rendered resource, if any. */
  specPath: string | null;
}

export interface CatalogValidation {
  resourceId: string | null;
  rule: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
}

export interface CatalogStack {
  name: string;
  resources: CatalogResource[];
  validations: CatalogValidation[];
}

export interface CatalogImage {
  reference: string;
  digest: string;
  mediaType: string;
  size: number;
  platforms: { os: string; architecture: string; variant?: string }[];
}

const SCHEMA = `
CREATE TABLE stacks (
  name TEXT PRIMARY KEY NOT NULL
);
CREATE TABLE resources (
  stack TEXT NOT NULL REFERENCES stacks(name),
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  namespace TEXT,
  spec_path TEXT,
  PRIMARY KEY (stack, id)
);
CREATE TABLE resource_dependencies (
  stack TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  depends_on TEXT NOT NULL,
  PRIMARY KEY (stack, resource_id, depends_on),
  FOREIGN KEY (stack, resource_id) REFERENCES resources(stack, id),
  FOREIGN KEY (stack, depends_on) REFERENCES resources(stack, id)
);
CREATE TABLE images (
  reference TEXT PRIMARY KEY NOT NULL,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  platforms TEXT NOT NULL -- JSON array of {os, architecture, variant?}
);
CREATE TABLE validations (
  stack TEXT NOT NULL REFERENCES stacks(name),
  resource_id TEXT,
  rule TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
  message TEXT NOT NULL
);
`;

function invalidCatalog(detail: string, cause?: unknown): KdeliverError {
  return new KdeliverError('input', 'CATALOG_INVALID', `the package catalog (state.db) ${detail}`, {
    hint: 'Build the package again with this kdeliver version.',
    cause,
  });
}

/** The catalog as SQLite file bytes. Rows are inserted in sorted order so the bytes are reproducible. */
export async function createCatalog(stacks: CatalogStack[], images: CatalogImage[]): Promise<Uint8Array> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  try {
    db.run('PRAGMA foreign_keys = ON');
    db.exec(SCHEMA);
    db.run(`PRAGMA user_version = ${CATALOG_SCHEMA_VERSION}`);
    db.run('BEGIN');
    const byName = <T extends { name: string }>(a: T, b: T) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    for (const stack of [...stacks].sort(byName)) {
      db.run('INSERT INTO stacks (name) VALUES (?)', [stack.name]);
      const resources = [...stack.resources].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (const resource of resources)
        db.run('INSERT INTO resources (stack, id, kind, namespace, spec_path) VALUES (?, ?, ?, ?, ?)', [
          stack.name,
          resource.id,
          resource.kind,
          resource.namespace,
          resource.specPath,
        ]);
      for (const resource of resources)
        for (const dependency of [...new Set(resource.dependsOn)].sort())
          db.run('INSERT INTO resource_dependencies (stack, resource_id, depends_on) VALUES (?, ?, ?)', [
            stack.name,
            resource.id,
            dependency,
          ]);
      for (const validation of stack.validations)
        db.run(
          'INSERT INTO validations (stack, resource_id, rule, severity, message) VALUES (?, ?, ?, ?, ?)',
          [stack.name, validation.resourceId, validation.rule, validation.severity, validation.message],
        );
    }
    for (const image of [...images].sort((a, b) => (a.reference < b.reference ? -1 : 1)))
      db.run('INSERT INTO images (reference, digest, media_type, size, platforms) VALUES (?, ?, ?, ?, ?)', [
        image.reference,
        image.digest,
        image.mediaType,
        image.size,
        JSON.stringify(image.platforms),
      ]);
    db.run('COMMIT');
    return db.export();
  } catch (error) {
    throw new KdeliverError(
      'input',
      'CATALOG_BUILD_FAILED',
      `cannot build the package catalog: ${messageOf(error)}`,
      {
        hint: 'Check that resource ids are unique within a stack and that dependsOn names resources of the same stack.',
        cause: error,
      },
    );
  } finally {
    db.close();
  }
}

/** Opens catalog bytes in memory, refusing any write for the lifetime of the connection. */
async function openCatalog(bytes: Uint8Array): Promise<Database> {
  const SQL = await loadSqlJs();
  let db: Database;
  try {
    db = new SQL.Database(bytes);
    db.run('PRAGMA query_only = ON');
    const version = db.exec('PRAGMA user_version')[0]?.values[0]?.[0];
    if (version !== CATALOG_SCHEMA_VERSION)
      throw invalidCatalog(`has schema version ${String(version)}, expected ${CATALOG_SCHEMA_VERSION}`);
  } catch (error) {
    throw error instanceof KdeliverError
      ? error
      : invalidCatalog(`cannot be opened: ${messageOf(error)}`, error);
  }
  return db;
}

export interface CatalogSummary {
  stacks: { name: string; resources: number; kinds: Record<string, number> }[];
  validations: (CatalogValidation & { stack: string })[];
}

export async function summarizeCatalog(bytes: Uint8Array): Promise<CatalogSummary> {
  const db = await openCatalog(bytes);
  try {
    const stacks = new Map<string, { name: string; resources: number; kinds: Record<string, number> }>();
    for (const [name] of db.exec('SELECT name FROM stacks ORDER BY name')[0]?.values ?? [])
      stacks.set(String(name), { name: String(name), resources: 0, kinds: {} });
    const counts = db.exec(
      'SELECT stack, kind, count(*) FROM resources GROUP BY stack, kind ORDER BY stack, kind',
    );
    for (const [stack, kind, count] of counts[0]?.values ?? []) {
      const entry = stacks.get(String(stack));
      if (!entry) continue;
      entry.kinds[String(kind)] = Number(count);
      entry.resources += Number(count);
    }
    const validations = (
      db.exec('SELECT stack, resource_id, rule, severity, message FROM validations ORDER BY rowid')[0]
        ?.values ?? []
    ).map(([stack, resourceId, rule, severity, message]) => ({
      stack: String(stack),
      resourceId: resourceId === null ? null : String(resourceId),
      rule: String(rule),
      severity: String(severity) as CatalogValidation['severity'],
      message: String(message),
    }));
    return { stacks: [...stacks.values()], validations };
  } finally {
    db.close();
  }
}

export interface QueryResult {
  columns: string[];
  rows: (string | number | null)[][];
}

const LEADING_COMMENTS = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;

function plainValue(value: SqlValue): string | number | null {
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
}

/** Runs one read-only SELECT (or WITH … SELECT) on catalog bytes. */
export async function queryCatalog(bytes: Uint8Array, sql: string): Promise<QueryResult> {
  const keyword = /^\w+/.exec(sql.replace(LEADING_COMMENTS, ''))?.[0]?.toLowerCase();
  if (keyword !== 'select' && keyword !== 'with') {
    throw new KdeliverError(
      'usage',
      'SQL_NOT_READ_ONLY',
      `--sql takes one SELECT statement, not ${keyword ?? 'an empty one'}`,
      {
        hint: 'Query the catalog with SELECT … (or WITH … SELECT …); it cannot be changed.',
      },
    );
  }
  const db = await openCatalog(bytes);
  try {
    let count: number;
    try {
      // The iterator compiles each statement (and frees it on the next step) without running it.
      count = [...db.iterateStatements(sql)].length;
    } catch (error) {
      throw new KdeliverError('usage', 'SQL_INVALID', `--sql does not compile: ${messageOf(error)}`, {
        hint: 'See the tables with: --sql "select name, sql from sqlite_schema"',
        cause: error,
      });
    }
    if (count !== 1) {
      throw new KdeliverError('usage', 'SQL_NOT_READ_ONLY', '--sql takes exactly one statement', {
        hint: 'Remove the other statements (and any `;` between them).',
      });
    }
    const statement = db.prepare(sql);
    try {
      const columns = statement.getColumnNames();
      const rows: QueryResult['rows'] = [];
      while (statement.step()) rows.push(statement.get().map(plainValue));
      return { columns, rows };
    } catch (error) {
      // PRAGMA query_only turns writes hidden in a WITH clause into errors like this one.
      throw new KdeliverError('usage', 'SQL_FAILED', `--sql failed: ${messageOf(error)}`, {
        hint: 'Only reading queries run on a package catalog.',
        cause: error,
      });
    } finally {
      statement.free();
    }
  } finally {
    db.close();
  }
}
