/**
 * `kdeliver support-bundle`: what a vendor needs to understand an installed project,
 * without access to the site, as one tar.gz: the state and its release history, every
 * recorded resource read live (Secret values as digests), status, events, pod statuses and
 * log tails per namespace, and the preflight checks. Reads only. Anything that cannot be
 * collected is noted in bundle.json and the rest is collected all the same; only a state
 * without the project stops it, since then there is nothing to look for.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { Credentials } from '../bundle/oci/docker-config.ts';
import type { RegistryClient } from '../bundle/oci/registry-client.ts';
import { parseKubernetesId } from '../engine/kubernetes-id.ts';
import { isKdeliverError, KdeliverError, messageOf } from '../errors.ts';
import { isOk, serverMessage } from '../runtimes/kubernetes/api-errors.ts';
import type { KubeClient } from '../runtimes/kubernetes/client.ts';
import type { KubernetesRuntime } from '../runtimes/kubernetes/runtime.ts';
import type { LiveObject, SpecResource } from '../runtimes/runtime.ts';
import type { StateStore } from '../state/store.ts';
import { runTasks, type OutputMode } from '../ui/progress.ts';
import { KDELIVER_VERSION } from '../version.ts';
import { openSiteState, projectStacks, type ProjectStacks, type SiteOptions } from './day2.ts';
import type { PreflightCheckName } from './preflight-names.ts';
import { countedHistory } from './stack-release.ts';
import { installedResources, projectStatus, type InstalledResources } from './status.ts';
import { writeArchive } from './support-bundle/archive.ts';
import {
  compareText,
  containerNames,
  eventsEntryPath,
  logEntryPath,
  MANIFEST_ENTRY,
  pathSegment,
  podsEntryPath,
  podStatuses,
  redactedObject,
  resourceEntryPath,
  sortedEvents,
  toYaml,
  type BundleEntry,
  type CollectionError,
} from './support-bundle/contents.ts';

export interface SupportBundleOptions {
  site: SiteOptions;
  project: string | undefined;
  /** The tar.gz to write. */
  output: string;
  /** Lines of each container's log kept, counted from the end. */
  tailLines: number;
  /** The site registry for the registry check; without one that check is skipped. */
  registry: { host: string; ca?: string; credentials?: Credentials } | undefined;
}

export interface PreflightResult {
  name: PreflightCheckName;
  result: 'passed' | 'failed' | 'skipped';
  detail: string;
  hint?: string;
}

export interface SupportBundleReport {
  file: string;
  project: string;
  bytes: number;
  entries: number;
  namespaces: string[];
  preflight: PreflightResult[];
  errors: CollectionError[];
}

/** A bundle is often made because the cluster misbehaves: give up on a dead API server in seconds, not minutes. */
const CLUSTER_CLIENT_OPTIONS = {
  retry: { maxElapsedMs: 10_000, initialDelayMs: 200, maxDelayMs: 2_000 },
  requestTimeoutMs: 15_000,
};

interface Collection {
  entries: BundleEntry[];
  errors: CollectionError[];
  preflight: PreflightResult[];
  project?: string;
  installed?: InstalledResources;
  namespaces: string[];
  counts: { resources: number; missing: number; events: number; pods: number; logs: number };
}

export async function writeSupportBundle(
  options: SupportBundleOptions,
  mode: OutputMode,
): Promise<SupportBundleReport> {
  const createdAt = new Date();
  const { site } = options;
  const ctx = await runTasks<Collection>(
    [
      {
        title: `Read the state ${site.statePath}`,
        task: async (ctx, task) => {
          const store = await openSiteState(site.statePath);
          try {
            const found = await projectStacks(store, options.project);
            ctx.project = found.project;
            ctx.installed = await installedResources(store, found);
            ctx.entries.push(
              { path: 'state.db', data: await store.bytes() },
              { path: 'releases.json', data: json(await releaseHistory(store, found)) },
            );
          } finally {
            store.close();
          }
          ctx.namespaces = projectNamespaces(ctx.installed.byStack);
          task.title = `Read the releases of ${ctx.project}`;
        },
      },
      {
        title: 'Preflight checks',
        task: async (ctx, task) => {
          ctx.preflight = await runPreflight(options, ctx.installed!);
          const failed = ctx.preflight.filter(({ result }) => result === 'failed').length;
          task.title = `Preflight checks: ${failed} of ${ctx.preflight.length} failed`;
          ctx.entries.push({ path: 'preflight.json', data: json(ctx.preflight) });
        },
      },
      {
        title: 'Read the cluster',
        task: async (ctx, task) => {
          const apiServer = ctx.preflight.find(({ name }) => name === 'api-server');
          if (apiServer?.result !== 'passed') {
            const reason = `not collected: the API server cannot be reached (${apiServer?.detail ?? 'unchecked'})`;
            for (const entry of ['resources/', 'status.json', 'events/', 'pods/', 'logs/'])
              ctx.errors.push({ entry, message: reason });
            task.skip('the API server cannot be reached');
            return;
          }
          const { KubernetesRuntime } = await import('../runtimes/kubernetes/runtime.ts');
          const runtime = KubernetesRuntime.fromKubeconfig(site.kubeconfig, CLUSTER_CLIENT_OPTIONS);
          const limit = pLimit(site.concurrency);
          task.output = 'resources';
          await collectResources(runtime, ctx);
          task.output = 'status';
          await collect(ctx, 'status.json', async () => json(await projectStatus(site, ctx.project)));
          task.output = `events, pods and logs of ${ctx.namespaces.join(', ')}`;
          await Promise.all(
            ctx.namespaces.map((namespace) =>
              collectNamespace(runtime.client, namespace, options.tailLines, limit, ctx),
            ),
          );
          task.title = `Read ${ctx.counts.resources} resources, ${ctx.counts.pods} pods and ${ctx.counts.logs} logs`;
        },
      },
    ],
    mode,
    {
      entries: [],
      errors: [],
      preflight: [],
      namespaces: [],
      counts: { resources: 0, missing: 0, events: 0, pods: 0, logs: 0 },
    },
  );

  const project = ctx.project!;
  const errors = [...ctx.errors].sort((a, b) => compareText(a.entry, b.entry));
  const manifest = {
    kdeliver: KDELIVER_VERSION,
    createdAt: createdAt.toISOString(),
    project,
    state: site.statePath,
    stacks: ctx.installed!.stacks,
    namespaces: ctx.namespaces,
    tailLines: options.tailLines,
    collected: ctx.counts,
    entries: ctx.entries.map(({ path }) => path).sort(compareText),
    errors,
  };
  const entries = [{ path: MANIFEST_ENTRY, data: json(manifest) }, ...ctx.entries];
  const bytes = await writeArchive(options.output, entries, createdAt);
  return {
    file: options.output,
    project,
    bytes,
    entries: entries.length,
    namespaces: ctx.namespaces,
    preflight: ctx.preflight,
    errors,
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Runs `read` for one entry; a failure is noted against the entry instead of ending the bundle. */
async function collect(ctx: Collection, entry: string, read: () => Promise<string>): Promise<void> {
  try {
    ctx.entries.push({ path: entry, data: await read() });
  } catch (error) {
    ctx.errors.push({ entry, message: messageOf(error) });
  }
}

/** Every release of each stack of the project, newest first, and the journal of each stack's newest. */
async function releaseHistory(store: StateStore, found: ProjectStacks) {
  const stacks = [];
  for (const { release: newest } of found.stacks) {
    const history = await countedHistory(store, found.project, newest.stack);
    stacks.push({
      stack: newest.stack,
      releases: history.map(({ release, resources }) => ({ ...release, resources })),
      journal: { revision: newest.revision, records: await store.journalRecords(newest.id) },
    });
  }
  return { project: found.project, stacks };
}

function identityOf(resource: SpecResource): { kind: string; namespace: string | undefined; name: string } {
  const parsed = parseKubernetesId(resource.id);
  return {
    kind: parsed?.kind ?? resource.type,
    namespace: parsed?.namespace,
    name: parsed?.name ?? resource.id,
  };
}

/** The namespaces the project's resources live in, and those it creates. */
function projectNamespaces(byStack: ReadonlyMap<string, readonly SpecResource[]>): string[] {
  const namespaces = new Set<string>();
  for (const resource of [...byStack.values()].flat()) {
    const { kind, namespace, name } = identityOf(resource);
    if (namespace !== undefined) namespaces.add(namespace);
    if (kind === 'Namespace') namespaces.add(name);
  }
  return [...namespaces].sort(compareText);
}

/** The install's preflight checks that apply without a package; a failed one is a result, not an error. */
async function runPreflight(
  options: SupportBundleOptions,
  installed: InstalledResources,
): Promise<PreflightResult[]> {
  const [{ preflightChecks }, { createRegistryClient }, { defaultDockerConfigPath }] = await Promise.all([
    import('./preflight.ts'),
    import('../bundle/oci/registry-client.ts'),
    import('../bundle/oci/docker-config.ts'),
  ]);
  const { registry } = options;
  // Made just before the registry check, so that a bad --registry-ca fails that check only.
  let client: RegistryClient | undefined;
  const checks = preflightChecks({
    kubeconfig: options.site.kubeconfig,
    stacks: [...installed.byStack].map(([name, resources]) => ({ name, resources })),
    get registry(): RegistryClient {
      if (client) return client;
      throw new KdeliverError(
        'internal',
        'REGISTRY_NOT_GIVEN',
        'the registry check runs only with a registry',
      );
    },
    // Pushes are an install's business; the bundle only checks that the registry answers.
    repository: undefined,
    statePath: options.site.statePath,
  });
  const results: PreflightResult[] = [];
  try {
    for (const check of checks) {
      const isRegistryCheck = check.name === 'registry';
      if (isRegistryCheck && !registry) {
        results.push({ name: check.name, result: 'skipped', detail: 'no --registry given' });
        continue;
      }
      try {
        if (isRegistryCheck && registry)
          client = await createRegistryClient({
            registry: registry.host,
            ca: registry.ca,
            credentials: registry.credentials,
            dockerConfigPath: defaultDockerConfigPath(),
          });
        results.push({ name: check.name, result: 'passed', detail: await check.run() });
      } catch (error) {
        const hint = isKdeliverError(error) ? error.hint : undefined;
        results.push({
          name: check.name,
          result: 'failed',
          detail: messageOf(error),
          ...(hint ? { hint } : {}),
        });
      }
    }
  } finally {
    client?.close();
  }
  return results;
}

/** Each recorded resource as the cluster has it now; the missing ones listed in resources/missing.txt. */
async function collectResources(runtime: KubernetesRuntime, ctx: Collection): Promise<void> {
  const missing: string[] = [];
  for (const [stack, members] of ctx.installed!.byStack) {
    let live: Map<string, LiveObject | undefined>;
    try {
      live = await runtime.readAll(members);
    } catch (error) {
      ctx.errors.push({ entry: `resources/${pathSegment(stack)}/`, message: messageOf(error) });
      continue;
    }
    for (const resource of members) {
      const object = live.get(resource.id);
      if (object === undefined) {
        missing.push(`${stack} ${resource.id}\n`);
        continue;
      }
      const { kind, namespace, name } = identityOf(resource);
      ctx.entries.push({
        path: resourceEntryPath(stack, kind, namespace, name),
        data: toYaml(redactedObject(object)),
      });
      ctx.counts.resources++;
    }
  }
  ctx.counts.missing = missing.length;
  if (missing.length > 0) ctx.entries.push({ path: 'resources/missing.txt', data: missing.join('') });
}

async function listItems(client: KubeClient, path: string): Promise<LiveObject[]> {
  const response = await client.request({ method: 'GET', path });
  if (!isOk(response))
    throw new Error(`listing ${path}: ${serverMessage(response)} (HTTP ${response.status})`);
  const items = (response.body as { items?: unknown }).items;
  return Array.isArray(items) ? (items as LiveObject[]) : [];
}

/** A namespace's events and pod statuses, and the log tail of each container of its pods. */
async function collectNamespace(
  client: KubeClient,
  namespace: string,
  tailLines: number,
  limit: LimitFunction,
  ctx: Collection,
): Promise<void> {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
  await collect(ctx, eventsEntryPath(namespace), async () => {
    const events = sortedEvents(await listItems(client, `${base}/events`));
    ctx.counts.events += events.length;
    return toYaml(events);
  });
  let pods: LiveObject[];
  try {
    pods = await listItems(client, `${base}/pods`);
  } catch (error) {
    ctx.errors.push({ entry: podsEntryPath(namespace), message: messageOf(error) });
    return;
  }
  ctx.entries.push({ path: podsEntryPath(namespace), data: toYaml(podStatuses(pods)) });
  ctx.counts.pods += pods.length;
  const logs = pods.flatMap((pod) => {
    const name = String((pod.metadata as { name?: unknown } | undefined)?.name);
    return containerNames(pod).map((container) => ({ pod: name, container }));
  });
  await Promise.all(
    logs.map(({ pod, container }) =>
      limit(() =>
        collect(ctx, logEntryPath(namespace, pod, container), async () => {
          const response = await client.request({
            method: 'GET',
            path: `${base}/pods/${encodeURIComponent(pod)}/log`,
            query: { container, tailLines: String(tailLines) },
          });
          if (!isOk(response)) throw new Error(`${serverMessage(response)} (HTTP ${response.status})`);
          ctx.counts.logs++;
          // The client parses JSON answers, so a log that is one JSON document comes back parsed.
          const body = response.body;
          return typeof body === 'string' ? body : body === undefined ? '' : `${JSON.stringify(body)}\n`;
        }),
      ),
    ),
  );
}
