import { describe, expect, it } from 'vitest';
import { KdeliverError } from '../../../src/errors.ts';
import { MIGRATIONS, migrate, schemaVersion, type Migration } from '../../../src/state/schema.ts';
import { loadSqlJs } from '../../../src/state/sqlite.ts';

async function emptyDb() {
  const SQL = await loadSqlJs();
  return new SQL.Database();
}

function tables(db: Awaited<ReturnType<typeof emptyDb>>): string[] {
  return (db.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")[0]?.values ?? []).map(
    ([name]) => String(name),
  );
}

describe('state schema migrations', () => {
  it('creates the latest schema on an empty database and records its version', async () => {
    const db = await emptyDb();
    expect(migrate(db, 'test.db')).toBe(MIGRATIONS.length);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(tables(db)).toEqual(expect.arrayContaining(['journal', 'releases', 'resources']));
    expect(migrate(db, 'test.db')).toBe(0);
  });

  it('applies only the migrations a database has not had yet', async () => {
    const db = await emptyDb();
    const first: Migration[] = [{ description: 'one', sql: 'CREATE TABLE a (x INTEGER);' }];
    migrate(db, 'test.db', first);
    db.run('INSERT INTO a VALUES (7)');
    const both = [...first, { description: 'two', sql: 'ALTER TABLE a ADD COLUMN y TEXT;' }];
    expect(migrate(db, 'test.db', both)).toBe(1);
    expect(schemaVersion(db)).toBe(2);
    expect(db.exec('SELECT x, y FROM a')[0]?.values).toEqual([[7, null]]);
  });

  it('leaves the previous version intact when a migration fails', async () => {
    const db = await emptyDb();
    const broken: Migration[] = [
      { description: 'one', sql: 'CREATE TABLE a (x INTEGER);' },
      { description: 'two', sql: 'CREATE TABLE b (y INTEGER); CREATE TABLE a (z INTEGER);' },
    ];
    expect(() => migrate(db, 'test.db', broken)).toThrow(/schema version 2 \(two\)/);
    expect(schemaVersion(db)).toBe(1);
    expect(tables(db)).toEqual(['a']);
  });

  it('refuses another SQLite file that has a schema version of its own', async () => {
    const db = await emptyDb();
    db.run('CREATE TABLE stacks (name TEXT)');
    db.run('PRAGMA user_version = 1');
    expect(() => migrate(db, 'catalog.db')).toThrow(
      expect.objectContaining({ kind: 'input', code: 'STATE_NOT_RELEASE_STATE' }),
    );
  });

  it('refuses a database written by a newer kdeliver', async () => {
    const db = await emptyDb();
    migrate(db, 'new.db');
    db.run(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
    const error = (() => {
      try {
        migrate(db, 'new.db');
      } catch (e) {
        return e as KdeliverError;
      }
    })();
    expect(error).toBeInstanceOf(KdeliverError);
    expect(error?.code).toBe('STATE_SCHEMA_TOO_NEW');
    expect(error?.message).toContain('new.db');
  });
});
