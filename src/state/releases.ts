import type { SpecResource } from '../runtimes/runtime.ts';

/** A release moves pending → applying → succeeded | failed, and a later rollback marks it rolled-back. */
export type ReleasePhase = 'pending' | 'applying' | 'succeeded' | 'failed' | 'rolled-back';

export const FINAL_PHASES: ReadonlySet<ReleasePhase> = new Set(['succeeded', 'failed', 'rolled-back']);

/** One install or upgrade of a stack of a project. */
export interface Release {
  id: number;
  project: string;
  stack: string;
  /** 1 for the first release of a project/stack, then counting up. */
  revision: number;
  /** The digest of the package it installed from. */
  packageDigest: string;
  /** Name and version of that package, for releases made by `kdeliver install` and `upgrade`. */
  package: PackageLabel | undefined;
  phase: ReleasePhase;
  /** Who ran it, e.g. `user@host`. */
  operator: string;
  startedAt: string;
  finishedAt: string | undefined;
  variables: Record<string, unknown>;
  /** Why it failed, when it did. */
  error: string | undefined;
}

export interface PackageLabel {
  name: string;
  version: string;
}

export interface NewRelease {
  project: string;
  stack: string;
  packageDigest: string;
  package?: PackageLabel;
  operator: string;
  variables?: Record<string, unknown>;
}

/** A resource as a release recorded it. */
export interface RecordedResource {
  /** The desired resource, Secret values replaced by their sha256 digests. */
  resource: SpecResource;
  /** The engine's `resourceDigest` of the desired resource. */
  digest: string;
  /** Digest of the object the runtime returned from apply (server fields left out, secrets masked). */
  appliedDigest: string | undefined;
}

export interface JournalRecord {
  seq: number;
  releaseId: number;
  /** The executor's operation: apply, wait, delete or forget. */
  step: string;
  resourceId: string;
  /** The plan's action for the resource. */
  action: string;
  phase: 'begin' | 'end';
  result: 'succeeded' | 'failed' | undefined;
  error: string | undefined;
  at: string;
}
