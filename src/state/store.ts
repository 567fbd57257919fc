import type { Database, SqlValue } from 'sql.js';
import { sha256Hex, sortKeysDeep } from '../engine/canonical.ts';
import { withoutServerFields } from '../engine/normalize.ts';
import { KdeliverError } from '../errors.ts';
import type { LiveObject, SpecResource } from '../runtimes/runtime.ts';
import { JournalStore } from './journal-store.ts';
import {
  FINAL_PHASES,
  type JournalRecord,
  type NewRelease,
  type RecordedResource,
  type Release,
  type ReleasePhase,
} from './releases.ts';
import { maskSecretData } from './secret-masking.ts';
import { StateFile } from './state-file.ts';

export interface ResourceToRecord {
  resource: SpecResource;
  /** The engine's `resourceDigest` of the spec resource. */
  digest: string;
  /** The object as applied, when it was. */
  live?: LiveObject;
}

export interface JournalEntryToWrite {
  record: Omit<JournalRecord, 'seq'>;
  /** The object a successful apply returned. */
  applied?: LiveObject;
}

/** The digest a release records for an applied object: stable across no-op applies, no secrets in it. */
export function appliedDigest(live: LiveObject): string {
  return `sha256:${sha256Hex(JSON.stringify(sortKeysDeep(maskSecretData(withoutServerFields(live)))))}`;
}

function rows(db: Database, sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
  const statement = db.prepare(sql);
  try {
    statement.bind(params);
    const result: Record<string, SqlValue>[] = [];
    while (statement.step()) result.push(statement.getAsObject());
    return result;
  } finally {
    statement.free();
  }
}

const optional = (value: SqlValue): string | undefined => (value === null ? undefined : String(value));

function toRelease(row: Record<string, SqlValue>): Release {
  return {
    id: Number(row.id),
    project: String(row.project),
    stack: String(row.stack),
    revision: Number(row.revision),
    packageDigest: String(row.package_digest),
    package:
      row.package_name === null || row.package_name === undefined
        ? undefined
        : { name: String(row.package_name), version: String(row.package_version) },
    phase: String(row.phase) as ReleasePhase,
    operator: String(row.operator),
    startedAt: String(row.started_at),
    finishedAt: optional(row.finished_at ?? null),
    variables: JSON.parse(String(row.variables)) as Record<string, unknown>,
    error: optional(row.error ?? null),
  };
}

/**
 * The release state of a site: releases per project and stack, the resources each one
 * applied, and the journal of every operation. The only place with SQL in kdeliver.
 */
export class StateStore {
  private readonly file: StateFile;

  private constructor(file: StateFile) {
    this.file = file;
  }

  /** Opens the state file at `path`; with `create`, a missing one is created empty. */
  static async open(path: string, options: { create?: boolean } = {}): Promise<StateStore> {
    return new StateStore(await StateFile.open(path, options));
  }

  get path(): string {
    return this.file.path;
  }

  /** Starts the next revision of a project/stack, in phase `pending`. */
  async startRelease(release: NewRelease, now = new Date()): Promise<Release> {
    return this.file.mutate((db) => {
      const [last] = rows(
        db,
        'SELECT max(revision) AS revision FROM releases WHERE project = ? AND stack = ?',
        [release.project, release.stack],
      );
      const revision = Number(last?.revision ?? 0) + 1;
      db.run(
        `INSERT INTO releases (project, stack, revision, package_digest, package_name, package_version,
                               phase, operator, started_at, variables)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
        [
          release.project,
          release.stack,
          revision,
          release.packageDigest,
          release.package?.name ?? null,
          release.package?.version ?? null,
          release.operator,
          now.toISOString(),
          JSON.stringify(release.variables ?? {}),
        ],
      );
      const id = Number(db.exec('SELECT last_insert_rowid()')[0]?.values[0]?.[0]);
      return toRelease(rows(db, 'SELECT * FROM releases WHERE id = ?', [id])[0]!);
    });
  }

  /** Moves a release to a phase; a final phase also records when it finished. */
  async setPhase(
    releaseId: number,
    phase: ReleasePhase,
    options: { error?: string; now?: Date } = {},
  ): Promise<void> {
    await this.file.mutate((db) => {
      db.run('UPDATE releases SET phase = ?, finished_at = ?, error = ? WHERE id = ?', [
        phase,
        FINAL_PHASES.has(phase) ? (options.now ?? new Date()).toISOString() : null,
        options.error ?? null,
        releaseId,
      ]);
      if (db.getRowsModified() === 0) throw unknownRelease(releaseId);
    });
  }

  /** Records (or re-records) resources of a release; Secret values are stored as digests only. */
  async recordResources(releaseId: number, resources: ResourceToRecord[]): Promise<void> {
    await this.file.mutate((db) => {
      if (rows(db, 'SELECT 1 FROM releases WHERE id = ?', [releaseId]).length === 0)
        throw unknownRelease(releaseId);
      for (const { resource, digest, live } of resources) {
        db.run(
          `INSERT OR REPLACE INTO resources
             (release_id, id, runtime_type, attributes, depends_on, extensions, desired_digest, applied_digest)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            releaseId,
            resource.id,
            resource.type,
            JSON.stringify(maskSecretData(resource.attributes)),
            JSON.stringify(resource.dependsOn ?? []),
            resource.extensions === undefined ? null : JSON.stringify(resource.extensions),
            digest,
            live === undefined ? null : appliedDigest(live),
          ],
        );
      }
    });
  }

  async resources(releaseId: number): Promise<RecordedResource[]> {
    return this.file.read((db) =>
      rows(db, 'SELECT * FROM resources WHERE release_id = ? ORDER BY rowid', [releaseId]).map((row) => ({
        resource: {
          id: String(row.id),
          type: String(row.runtime_type),
          attributes: JSON.parse(String(row.attributes)) as Record<string, unknown>,
          dependsOn: JSON.parse(String(row.depends_on)) as string[],
          ...(row.extensions === null
            ? {}
            : { extensions: JSON.parse(String(row.extensions)) as Record<string, unknown> }),
        },
        digest: String(row.desired_digest),
        appliedDigest: optional(row.applied_digest ?? null),
      })),
    );
  }

  async release(releaseId: number): Promise<Release | undefined> {
    return this.file.read((db) => {
      const [row] = rows(db, 'SELECT * FROM releases WHERE id = ?', [releaseId]);
      return row && toRelease(row);
    });
  }

  /** Releases of a project/stack, newest first. */
  async history(project: string, stack: string, limit = -1): Promise<Release[]> {
    return this.file.read((db) =>
      rows(db, 'SELECT * FROM releases WHERE project = ? AND stack = ? ORDER BY revision DESC LIMIT ?', [
        project,
        stack,
        limit,
      ]).map(toRelease),
    );
  }

  /** The stacks with releases, each with its newest release; of one project when given. */
  async stacks(project?: string): Promise<Release[]> {
    return this.file.read((db) =>
      rows(
        db,
        `SELECT * FROM releases r
          WHERE revision = (SELECT max(revision) FROM releases WHERE project = r.project AND stack = r.stack)
            AND (? IS NULL OR project = ?)
          ORDER BY project, stack`,
        [project ?? null, project ?? null],
      ).map(toRelease),
    );
  }

  /** How many resources a release recorded. */
  async resourceCount(releaseId: number): Promise<number> {
    return this.file.read((db) =>
      Number(rows(db, 'SELECT count(*) AS n FROM resources WHERE release_id = ?', [releaseId])[0]?.n ?? 0),
    );
  }

  /** The newest release of a project/stack, optionally only among those in one of `phases`. */
  async latest(project: string, stack: string, phases?: ReleasePhase[]): Promise<Release | undefined> {
    return this.file.read((db) => {
      const filter = phases ? ` AND phase IN (${phases.map(() => '?').join(', ')})` : '';
      const [row] = rows(
        db,
        `SELECT * FROM releases WHERE project = ? AND stack = ?${filter} ORDER BY revision DESC LIMIT 1`,
        [project, stack, ...(phases ?? [])],
      );
      return row && toRelease(row);
    });
  }

  /** The engine's journal for a release, persisted step by step. */
  journal(releaseId: number): JournalStore {
    return new JournalStore(this, releaseId);
  }

  /**
   * Appends journal records in one write; used by JournalStore. A record with `applied`
   * also notes the applied object's digest on the resource, if the release recorded it.
   */
  async appendJournal(entries: JournalEntryToWrite[]): Promise<void> {
    await this.file.mutate((db) => {
      for (const { record, applied } of entries) {
        if (applied) {
          db.run('UPDATE resources SET applied_digest = ? WHERE release_id = ? AND id = ?', [
            appliedDigest(applied),
            record.releaseId,
            record.resourceId,
          ]);
        }
        db.run(
          `INSERT INTO journal (release_id, step, resource_id, action, phase, result, error, at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            record.releaseId,
            record.step,
            record.resourceId,
            record.action,
            record.phase,
            record.result ?? null,
            record.error ?? null,
            record.at,
          ],
        );
      }
    });
  }

  /** The journal of a release in the order it was written. */
  async journalRecords(releaseId: number): Promise<JournalRecord[]> {
    return this.file.read((db) =>
      rows(db, 'SELECT * FROM journal WHERE release_id = ? ORDER BY seq', [releaseId]).map((row) => ({
        seq: Number(row.seq),
        releaseId: Number(row.release_id),
        step: String(row.step),
        resourceId: String(row.resource_id),
        action: String(row.action),
        phase: String(row.phase) as JournalRecord['phase'],
        result: optional(row.result ?? null) as JournalRecord['result'],
        error: optional(row.error ?? null),
        at: String(row.at),
      })),
    );
  }

  /** Replaces the whole state with another state file's bytes (the in-cluster copy). */
  replace(bytes: Uint8Array): Promise<void> {
    return this.file.replace(bytes);
  }

  /** The state file as persisted, e.g. for the in-cluster copy. */
  bytes(): Promise<Uint8Array> {
    return this.file.bytes();
  }

  close(): void {
    this.file.close();
  }
}

function unknownRelease(releaseId: number): KdeliverError {
  return new KdeliverError('internal', 'STATE_RELEASE_UNKNOWN', `release ${releaseId} is not in the state`);
}
