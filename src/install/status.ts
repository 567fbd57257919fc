/**
 * `kdeliver status`: the health of every resource an installed project's releases put in
 * the cluster, read live with the runtime's own health rules (the ones the install waited
 * on). Reading only: nothing is locked or written.
 */
import pLimit from 'p-limit';
import { parseKubernetesId } from '../engine/kubernetes-id.ts';
import type { HealthState, LiveObject, SpecResource } from '../runtimes/runtime.ts';
import type { StateStore } from '../state/store.ts';
import { openSiteState, projectStacks, type ProjectStacks, type SiteOptions } from './day2.ts';
import { installedStacks } from './installed.ts';

export interface ResourceStatus {
  stack: string;
  id: string;
  kind: string;
  namespace: string | undefined;
  name: string;
  health: HealthState | 'missing';
  message: string;
}

export interface ProjectStatus {
  project: string;
  /** Each stack with the revision its resources come from and that release's phase. */
  stacks: { stack: string; revision: number; phase: string; package: string | undefined }[];
  resources: ResourceStatus[];
  /** True when every resource exists and is healthy. */
  healthy: boolean;
}

export interface InstalledResources {
  stacks: ProjectStatus['stacks'];
  /** What each installed stack's releases put in the cluster, by stack. */
  byStack: Map<string, SpecResource[]>;
}

/** The installed stacks of a project and the resources the state records for each. */
export async function installedResources(
  store: StateStore,
  found: ProjectStacks,
): Promise<InstalledResources> {
  const { priorResources } = await import('../engine/release.ts');
  const installed = installedStacks(found.stacks);
  const byStack = new Map<string, SpecResource[]>();
  for (const release of installed) {
    const prior = await priorResources(store, found.project, release.stack);
    byStack.set(
      release.stack,
      [...prior.values()].map(({ resource }) => resource),
    );
  }
  const stacks = installed.map((release) => ({
    stack: release.stack,
    revision: release.revision,
    phase: release.phase,
    package: release.package && `${release.package.name} ${release.package.version}`,
  }));
  return { stacks, byStack };
}

export async function projectStatus(
  site: SiteOptions,
  projectArg: string | undefined,
): Promise<ProjectStatus> {
  const store = await openSiteState(site.statePath);
  let project: string;
  let stacks: ProjectStatus['stacks'];
  let byStack: Map<string, SpecResource[]>;
  try {
    const found = await projectStacks(store, projectArg);
    project = found.project;
    ({ stacks, byStack } = await installedResources(store, found));
  } finally {
    store.close();
  }

  const { KubernetesRuntime } = await import('../runtimes/kubernetes/runtime.ts');
  const runtime = KubernetesRuntime.fromKubeconfig(site.kubeconfig);
  const limit = pLimit(site.concurrency);
  const resources: ResourceStatus[] = [];
  for (const [stack, members] of byStack) {
    const live = await runtime.readAll(members);
    const checked = await Promise.all(
      members.map((resource) => limit(() => statusOf(stack, resource, live.get(resource.id)))),
    );
    resources.push(...checked);
  }
  return {
    project,
    stacks,
    resources,
    healthy: resources.every((resource) => resource.health === 'healthy'),
  };

  async function statusOf(
    stack: string,
    resource: SpecResource,
    object: LiveObject | undefined,
  ): Promise<ResourceStatus> {
    const parsed = parseKubernetesId(resource.id);
    const base = {
      stack,
      id: resource.id,
      kind: parsed?.kind ?? resource.type,
      namespace: parsed?.namespace,
      name: parsed?.name ?? resource.id,
    };
    if (object === undefined) return { ...base, health: 'missing', message: 'not in the cluster' };
    const health = await runtime.health(resource, object);
    return { ...base, health: health.state, message: health.message ?? '' };
  }
}
