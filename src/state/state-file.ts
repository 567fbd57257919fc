import { stat, readFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import type { Database } from 'sql.js';
import writeFileAtomic from 'write-file-atomic';
import { KdeliverError, messageOf } from '../errors.ts';
import { migrate } from './schema.ts';
import { loadSqlJs } from './sqlite.ts';

/** How long a lock whose holder stopped refreshing it (a killed process) blocks others. */
const STALE_LOCK_MS = 5_000;

/**
 * A SQLite file kept as a whole in memory (sql.js) and written back atomically: to a
 * temporary file, fsync, rename. Every change happens under a lock file and on top of the
 * file's latest content, so two processes never interleave or lose each other's writes,
 * and a crash at any moment leaves either the old or the new file, never a torn one.
 */
export class StateFile {
  readonly path: string;
  private db: Database;
  /** Identity of the file version `db` was loaded from or last written as. */
  private version: string | undefined;

  private constructor(path: string, db: Database, version: string | undefined) {
    this.path = path;
    this.db = db;
    this.version = version;
  }

  /** Opens an existing state file, or creates one when `create` is set and there is none. */
  static async open(path: string, options: { create?: boolean } = {}): Promise<StateFile> {
    const loaded = await load(path);
    if (!loaded && !options.create) {
      throw new KdeliverError('input', 'STATE_NOT_FOUND', `no release state at ${path}`, {
        hint: 'Check the --state path; a first install creates the file.',
      });
    }
    const SQL = await loadSqlJs();
    const file = new StateFile(path, loaded?.db ?? new SQL.Database(), loaded?.version);
    if (!loaded) {
      await mkdir(dirname(path), { recursive: true });
      await file.mutate(() => undefined);
    } else {
      migrate(file.db, path);
    }
    return file;
  }

  /** Runs a read against the file's latest content. */
  async read<T>(query: (db: Database) => T): Promise<T> {
    await this.refresh();
    return query(this.db);
  }

  /** Runs a change in one transaction on the latest content and persists it, under the lock. */
  async mutate<T>(change: (db: Database) => T): Promise<T> {
    return this.locked(async (compromised) => {
      await this.refresh();
      migrate(this.db, this.path);
      this.db.run('BEGIN');
      let result: T;
      try {
        result = change(this.db);
        this.db.run('COMMIT');
      } catch (error) {
        this.db.run('ROLLBACK');
        throw error;
      }
      compromised();
      await this.write(this.db.export());
      return result;
    });
  }

  /** Replaces the whole file with another state file's bytes (a pulled copy), under the lock. */
  async replace(bytes: Uint8Array): Promise<void> {
    const db = await checkedDatabase(bytes, 'the new state');
    migrate(db, this.path);
    try {
      await this.locked(async (compromised) => {
        compromised();
        await this.write(db.export());
      });
    } catch (error) {
      db.close();
      throw error;
    }
    this.db.close();
    this.db = db;
  }

  private async write(bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.path, Buffer.from(bytes), { mode: 0o600, fsync: true });
    this.version = await versionOf(this.path);
  }

  /** Runs `work` holding the lock file; `compromised()` throws if the lock was lost meanwhile. */
  private async locked<T>(work: (compromised: () => void) => Promise<T>): Promise<T> {
    let compromised: Error | undefined;
    const release = await lockfile
      .lock(this.path, {
        realpath: false,
        stale: STALE_LOCK_MS,
        retries: { retries: 200, factor: 1.3, minTimeout: 10, maxTimeout: 250 },
        onCompromised: (error) => (compromised = error),
      })
      .catch((error: unknown) => {
        throw new KdeliverError(
          'locked',
          'STATE_FILE_LOCKED',
          `the state file ${this.path} stays locked by another kdeliver process (${messageOf(error)})`,
          {
            hint: `Wait for the other run to finish; a crashed one releases the lock after ${STALE_LOCK_MS / 1000} s.`,
            cause: error,
          },
        );
      });
    try {
      return await work(() => {
        if (compromised) throw compromised;
      });
    } catch (error) {
      // The memory copy may now be ahead of the file: reload it on next use.
      this.version = undefined;
      throw error;
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** The file's bytes as last persisted. */
  async bytes(): Promise<Uint8Array> {
    return readFile(this.path);
  }

  close(): void {
    this.db.close();
  }

  private async refresh(): Promise<void> {
    const current = await versionOf(this.path);
    if (current === undefined || current === this.version) return;
    const loaded = await load(this.path);
    if (!loaded) return;
    this.db.close();
    this.db = loaded.db;
    this.version = loaded.version;
  }
}

async function versionOf(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path, { bigint: true });
    // An atomic rename gives every written version a new inode.
    return `${info.ino}:${info.size}:${info.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function load(path: string): Promise<{ db: Database; version: string | undefined } | undefined> {
  const version = await versionOf(path);
  if (version === undefined) return undefined;
  return { db: await checkedDatabase(await readFile(path), path), version };
}

/** Opens state bytes in memory after SQLite's own consistency check. */
export async function checkedDatabase(bytes: Uint8Array, source: string): Promise<Database> {
  const SQL = await loadSqlJs();
  let db: Database | undefined;
  try {
    db = new SQL.Database(bytes);
    const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
    if (check !== 'ok') throw new Error(String(check));
    return db;
  } catch (error) {
    db?.close();
    throw new KdeliverError(
      'input',
      'STATE_CORRUPT',
      `${source} is not a valid kdeliver state file: ${messageOf(error)}`,
      {
        hint: 'Restore it from the in-cluster copy (`kdeliver state pull`) or from a backup.',
        cause: error,
      },
    );
  }
}
