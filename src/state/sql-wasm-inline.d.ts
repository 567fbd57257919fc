// sql.js ships typings for its main entry only; the inline build has the same API.
declare module 'sql.js/dist/sql-wasm-inline.js' {
  import type { SqlJsConfig, SqlJsStatic } from 'sql.js';
  export default function initSqlJs(config?: SqlJsConfig): Promise<SqlJsStatic>;
}
