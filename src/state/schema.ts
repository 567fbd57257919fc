import type { Database } from 'sql.js';
import { KdeliverError } from '../errors.ts';

/**
 * The release state schema, grown only by appending migrations. The file's
 * `PRAGMA user_version` is the number of migrations applied to it.
 */
export interface Migration {
  /** What the migration changes, for error messages. */
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'releases, their resources, and the journal of operations',
    sql: `
      CREATE TABLE releases (
        id INTEGER PRIMARY KEY,
        project TEXT NOT NULL,
        stack TEXT NOT NULL,
        revision INTEGER NOT NULL,
        package_digest TEXT NOT NULL,
        phase TEXT NOT NULL CHECK (phase IN ('pending', 'applying', 'succeeded', 'failed', 'rolled-back')),
        operator TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        variables TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        UNIQUE (project, stack, revision)
      );
      CREATE TABLE resources (
        release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        runtime_type TEXT NOT NULL,
        -- The desired object as JSON; Secret values replaced by their sha256 digests.
        attributes TEXT NOT NULL,
        depends_on TEXT NOT NULL DEFAULT '[]',
        extensions TEXT,
        desired_digest TEXT NOT NULL,
        applied_digest TEXT,
        PRIMARY KEY (release_id, id)
      );
      CREATE TABLE journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
        step TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        action TEXT NOT NULL,
        phase TEXT NOT NULL CHECK (phase IN ('begin', 'end')),
        result TEXT CHECK (result IN ('succeeded', 'failed')),
        error TEXT,
        at TEXT NOT NULL
      );
      CREATE INDEX journal_by_release ON journal (release_id, seq);
    `,
  },
  {
    description: 'the name and version of the package a release installed',
    sql: `
      ALTER TABLE releases ADD COLUMN package_name TEXT;
      ALTER TABLE releases ADD COLUMN package_version TEXT;
    `,
  },
];

/** `PRAGMA application_id` of release state files ("kdrs"), telling them from other SQLite files. */
export const RELEASE_STATE_APPLICATION_ID = 0x6b647273;

function pragma(db: Database, name: string): number {
  return Number(db.exec(`PRAGMA ${name}`)[0]?.values[0]?.[0] ?? 0);
}

export function schemaVersion(db: Database): number {
  return pragma(db, 'user_version');
}

/**
 * Brings a database up to the latest schema, each migration in its own transaction so a
 * failure leaves the previous version intact. Returns how many migrations ran.
 */
export function migrate(db: Database, source: string, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = schemaVersion(db);
  if (current > 0 && pragma(db, 'application_id') !== RELEASE_STATE_APPLICATION_ID) {
    throw new KdeliverError(
      'input',
      'STATE_NOT_RELEASE_STATE',
      `${source} is a SQLite file, but not a kdeliver release state`,
      {
        hint: "Point kdeliver at the site's state file, not at another database such as a package catalog.",
      },
    );
  }
  if (current > migrations.length) {
    throw new KdeliverError(
      'environment',
      'STATE_SCHEMA_TOO_NEW',
      `${source} has state schema version ${current}; this kdeliver knows versions up to ${migrations.length}`,
      { hint: 'Use the kdeliver release that wrote this state, or a newer one.' },
    );
  }
  for (let version = current; version < migrations.length; version++) {
    db.run('BEGIN');
    try {
      if (version === 0) db.run(`PRAGMA application_id = ${RELEASE_STATE_APPLICATION_ID}`);
      db.exec(migrations[version]!.sql);
      db.run(`PRAGMA user_version = ${version + 1}`);
      db.run('COMMIT');
    } catch (error) {
      db.run('ROLLBACK');
      throw new KdeliverError(
        'internal',
        'STATE_MIGRATION_FAILED',
        `migrating ${source} to schema version ${version + 1} (${migrations[version]!.description}) failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return migrations.length - current;
}
