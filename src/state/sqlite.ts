import initSqlJs from 'sql.js/dist/sql-wasm-inline.js';
import type { SqlJsStatic } from 'sql.js';

/**
 * sql.js with its WebAssembly inlined, so the bundle and the single executable need no
 * file beside them. Loaded once per process.
 */
let sqlJs: Promise<SqlJsStatic> | undefined;

export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs();
  return sqlJs;
}

/** The SQLite library version compiled into sql.js. */
export async function sqliteVersion(): Promise<string> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  try {
    const [result] = db.exec('select sqlite_version()');
    return String(result?.values[0]?.[0]);
  } finally {
    db.close();
  }
}
