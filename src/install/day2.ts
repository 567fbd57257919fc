/**
 * The day-2 operations on an installed project, as the site's state records it:
 * rollback, uninstall and history. Each works stack by stack through the engine, like
 * the install did.
 */
import { existsSync } from 'node:fs';
import type { ReleaseSummary, StackTarget } from '../engine/release.ts';
import { KdeliverError } from '../errors.ts';
import type { KubeconfigOptions } from '../runtimes/kubernetes/kubeconfig.ts';
import type { Release } from '../state/releases.ts';
import type { StateStore } from '../state/store.ts';
import { chooseProject, installedStacks, type CountedRelease } from './installed.ts';
import {
  countedHistory,
  countedStacks,
  rollbackStack,
  uninstallStack,
  type ReleaseUi,
  type RollbackOutcome,
} from './stack-release.ts';

export interface SiteOptions {
  statePath: string;
  kubeconfig: KubeconfigOptions;
  concurrency: number;
}

export interface ProjectStacks {
  project: string;
  /** The newest release of each stack of the project, with its resource count. */
  stacks: CountedRelease[];
}

export async function openSiteState(statePath: string): Promise<StateStore> {
  if (!existsSync(statePath))
    throw new KdeliverError('input', 'STATE_NOT_FOUND', `there is no state file at ${statePath}`, {
      hint: 'Pass --state, or fetch the site state from the cluster with `kdeliver state pull`.',
    });
  const { StateStore } = await import('../state/store.ts');
  return StateStore.open(statePath);
}

/** The project named (or the only one in the state) and the newest release of each of its stacks. */
export async function projectStacks(store: StateStore, project: string | undefined): Promise<ProjectStacks> {
  const all = await countedStacks(store);
  const chosen = chooseProject([...new Set(all.map(({ release }) => release.project))], project, store.path);
  return { project: chosen, stacks: all.filter(({ release }) => release.project === chosen) };
}

function targetOf(site: SiteOptions, project: string, stack: string): StackTarget {
  return {
    project,
    stack,
    statePath: site.statePath,
    kubeconfig: site.kubeconfig,
    concurrency: site.concurrency,
  };
}

/** The installed stacks to work on: all of them, or the one named. */
async function installedTargets(
  site: SiteOptions,
  projectArg: string | undefined,
  stackArg: string | undefined,
): Promise<{ project: string; stacks: string[] }> {
  const store = await openSiteState(site.statePath);
  try {
    const { project, stacks } = await projectStacks(store, projectArg);
    const installed = installedStacks(stacks).map((release) => release.stack);
    if (stackArg === undefined) return { project, stacks: installed };
    if (!stacks.some(({ release }) => release.stack === stackArg))
      throw new KdeliverError('usage', 'STACK_UNKNOWN', `${project} has no stack "${stackArg}"`, {
        hint: `Its stacks: ${stacks.map(({ release }) => release.stack).join(', ')}.`,
      });
    return { project, stacks: [stackArg] };
  } finally {
    store.close();
  }
}

export interface RollbackRequest {
  project?: string;
  stack?: string;
  /** A revision of the stack; needs `stack` when the project has several. */
  to?: number;
}

/** Rolls each installed stack of the project (or the one named) back; stops at the first failure. */
export async function rollbackProject(
  site: SiteOptions,
  request: RollbackRequest,
  ui: ReleaseUi,
): Promise<{ project: string; stacks: (RollbackOutcome & { stack: string })[] }> {
  const { project, stacks } = await installedTargets(site, request.project, request.stack);
  if (request.to !== undefined && stacks.length > 1)
    throw new KdeliverError(
      'usage',
      'STACK_REQUIRED',
      `revisions are counted per stack, and ${project} has ${stacks.length}`,
      {
        hint: `Name the stack with --stack (${stacks.join(', ')}).`,
      },
    );
  if (stacks.length === 0)
    throw new KdeliverError('usage', 'NOTHING_INSTALLED', `${project} has no installed stack to roll back`, {
      hint: 'A rollback after an uninstall is an install: run kdeliver install with the package.',
    });
  const outcomes = [];
  for (const stack of stacks) {
    const outcome = await rollbackStack(targetOf(site, project, stack), request.to, ui);
    outcomes.push({ stack, ...outcome });
    if (outcome.summary.phase === 'failed') break;
  }
  return { project, stacks: outcomes };
}

/** An image in the site registry, by digest. */
export interface SiteImage {
  repository: string;
  digest: string;
}

/**
 * The images in `registry` (by digest) that the project's installed stacks run and no
 * other installed project does: what `uninstall --prune-images` may delete.
 */
export async function imagesOnlyUsedBy(
  store: StateStore,
  project: string,
  registry: string,
): Promise<SiteImage[]> {
  const [{ containerImages }, { parseReference }] = await Promise.all([
    import('../bundle/workload-images.ts'),
    import('../bundle/oci/reference.ts'),
  ]);
  const newest = await countedStacks(store);
  const ours = new Map<string, SiteImage>();
  const others = new Set<string>();
  for (const release of installedStacks(newest)) {
    for (const { resource } of await store.resources(release.id)) {
      for (const { image } of containerImages(resource)) {
        if (typeof image !== 'string') continue;
        const reference = parseReference(image);
        if (reference.registry !== registry || reference.digest === undefined) continue;
        const key = `${reference.repository}@${reference.digest}`;
        if (release.project === project)
          ours.set(key, { repository: reference.repository, digest: reference.digest });
        else others.add(key);
      }
    }
  }
  return [...ours].filter(([key]) => !others.has(key)).map(([, image]) => image);
}

export interface UninstallRequest {
  project?: string;
  /** Delete the project's images from this registry afterwards (those no other project runs). */
  pruneImages?: { registry: string; deleteManifest: (image: SiteImage) => Promise<void> };
}

export interface UninstallOutcome {
  project: string;
  stacks: { stack: string; summary: ReleaseSummary }[];
  /** Images deleted from the site registry, with --prune-images. */
  pruned: SiteImage[];
}

/** Uninstalls every installed stack of the project, the last installed first; then prunes its images when asked. */
export async function uninstallProject(
  site: SiteOptions,
  request: UninstallRequest,
  ui: ReleaseUi,
): Promise<UninstallOutcome> {
  const { project, stacks } = await installedTargets(site, request.project, undefined);
  let images: SiteImage[] = [];
  if (request.pruneImages) {
    // Read before the uninstall, which records the stacks as having no resources.
    const store = await openSiteState(site.statePath);
    try {
      images = await imagesOnlyUsedBy(store, project, request.pruneImages.registry);
    } finally {
      store.close();
    }
  }
  const outcome: UninstallOutcome = { project, stacks: [], pruned: [] };
  for (const stack of stacks.reverse()) {
    const summary = await uninstallStack(targetOf(site, project, stack), ui);
    outcome.stacks.push({ stack, summary });
    if (summary.phase === 'failed') return outcome;
  }
  for (const image of images) {
    await request.pruneImages!.deleteManifest(image);
    outcome.pruned.push(image);
  }
  return outcome;
}

export interface HistoryEntry {
  stack: string;
  revision: number;
  phase: Release['phase'];
  package: string | undefined;
  resources: number;
  /** The site's variable values it was installed with; secret ones as digests. */
  variables: Record<string, unknown>;
  operator: string;
  startedAt: string;
  finishedAt: string | undefined;
  error: string | undefined;
}

/** Every release of the project's stacks, newest first within each stack. */
export async function projectHistory(
  statePath: string,
  projectArg: string | undefined,
  stackArg: string | undefined,
): Promise<{ project: string; releases: HistoryEntry[] }> {
  const store = await openSiteState(statePath);
  try {
    const { project, stacks } = await projectStacks(store, projectArg);
    const releases: HistoryEntry[] = [];
    for (const { release: newest } of stacks) {
      if (stackArg !== undefined && newest.stack !== stackArg) continue;
      for (const { release, resources } of await countedHistory(store, project, newest.stack)) {
        releases.push({
          stack: release.stack,
          revision: release.revision,
          phase: release.phase,
          package: release.package && `${release.package.name} ${release.package.version}`,
          resources,
          variables: release.variables,
          operator: release.operator,
          startedAt: release.startedAt,
          finishedAt: release.finishedAt,
          error: release.error,
        });
      }
    }
    return { project, releases };
  } finally {
    store.close();
  }
}
