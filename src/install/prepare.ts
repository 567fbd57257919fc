/**
 * The install up to the engine, as progress tasks: verify the whole package (nothing on
 * the site changes before it and preflight pass), preflight, push the images, and rewrite
 * the specs to run them from the site registry. When the site registry already has every
 * image by digest, verification stops before the package's images (read-package.ts) and
 * there is nothing to push.
 */
import { createRegistryClient, type RegistryClient } from '../bundle/oci/registry-client.ts';
import type { Credentials } from '../bundle/oci/docker-config.ts';
import { defaultDockerConfigPath } from '../bundle/oci/docker-config.ts';
import type { PackageManifest } from '../bundle/format.ts';
import type { OpenPackageOptions } from '../bundle/package-reader.ts';
import { sha256Hex } from '../engine/canonical.ts';
import { KUBERNETES_TYPE } from '../engine/kubernetes-id.ts';
import { parseSpec } from '../engine/spec.ts';
import type { KubeconfigOptions } from '../runtimes/kubernetes/kubeconfig.ts';
import { formatBytes, formatTransfer } from '../ui/bytes.ts';
import { progressIntervalMs, runTasks, type OutputMode } from '../ui/progress.ts';
import type { StackResources } from '../bundle/workload-images.ts';
import type { PreflightCheckName } from './preflight-names.ts';
import { preflightChecks } from './preflight.ts';
import { imageTargets, planPush, type PushPlan } from './push-plan.ts';
import { imagesPresent, presentSummary, pushImages, type PushSummary } from './push-images.ts';
import { compileOnSite } from './compile-on-site.ts';
import { checkPackage, type CheckedPackage, type PackageKonfigStack } from './read-package.ts';
import type { SpecResource } from '../runtimes/runtime.ts';
import { recordedVariables, type VariableValues } from './variables.ts';
import { rewriteImages, type RewrittenStack } from './rewrite-images.ts';

export interface PrepareOptions {
  package: string;
  open: OpenPackageOptions;
  registry: { host: string; ca?: string; credentials?: Credentials };
  kubeconfig: KubeconfigOptions;
  statePath: string;
  skipPreflight: readonly PreflightCheckName[];
  /** Change nothing on the site: no push. */
  dryRun: boolean;
  /** Ctrl-C: verification and the push stop at the next entry or piece, with the signal's reason. */
  signal?: AbortSignal;
  /** Called once the package verified, before preflight: may refuse it (e.g. already installed). */
  accept?: (verified: VerifiedPackage) => Promise<void>;
  /**
   * The site's values for the variables of the stacks that declare some, by stack; may
   * prompt, so it runs between progress displays.
   */
  variables?: (stacks: readonly PackageKonfigStack[]) => Promise<Map<string, VariableValues>>;
}

/** The package as identified by its signed manifest. */
export interface VerifiedPackage {
  name: string;
  version: string;
  /** `sha256:` of kdeliver.json, which lists the digest of everything else. */
  digest: string;
  verifiedKey: string | null;
  bytes: number;
}

export interface PreflightOutcome {
  name: PreflightCheckName;
  result: 'passed' | 'skipped';
  detail: string;
}

export interface PreparedInstall {
  package: VerifiedPackage;
  preflight: PreflightOutcome[];
  /** Undefined on a dry run. */
  push: PushSummary | undefined;
  stacks: PreparedStack[];
}

export interface PreparedStack extends RewrittenStack {
  /** The site's variable values as the state records them (secret ones as digests). */
  variables: VariableValues;
}

interface Context {
  checked?: CheckedPackage;
  values?: Map<string, VariableValues>;
  stacks?: StackResources[];
  plan?: PushPlan;
  preflight: PreflightOutcome[];
  push?: PushSummary;
  rewritten?: RewrittenStack[];
}

const KNOWN_TYPES: ReadonlySet<string> = new Set([KUBERNETES_TYPE]);

export async function prepareInstall(options: PrepareOptions, mode: OutputMode): Promise<PreparedInstall> {
  const settings = {
    registry: options.registry.host,
    ca: options.registry.ca,
    credentials: options.registry.credentials,
    dockerConfigPath: defaultDockerConfigPath(),
  };
  const client: RegistryClient = await createRegistryClient(settings);
  // Before preflight the registry is only asked, once per request: a registry that does not
  // answer means the images are read and checked, and preflight then says what is wrong.
  const quickClient = await createRegistryClient({ ...settings, retry: { attempts: 1 } });
  const imagesOnSite = (manifest: PackageManifest) =>
    imagesPresent(imageTargets(manifest.images), quickClient).catch(() => false);
  try {
    const verified = await runTasks<Context>(
      [
        {
          title: `Verify ${options.package}`,
          task: async (ctx, task) => {
            await verifyTask(ctx, options, imagesOnSite, (title) => (task.title = title));
            await options.accept?.(verifiedPackage(ctx.checked!));
          },
        },
      ],
      mode,
      { preflight: [] },
    );
    const declaring = verified.checked!.konfigStacks.filter((stack) => stack.variables.length > 0);
    if (declaring.length > 0 && options.variables) verified.values = await options.variables(declaring);
    const ctx = await runTasks<Context>(
      [
        {
          title: 'Compile stacks with the site variables',
          enabled: () => declaring.length > 0,
          task: async (ctx, task) => {
            const compiled = new Map<string, readonly SpecResource[]>();
            for (const stack of declaring) {
              task.output = stack.name;
              compiled.set(stack.name, await compileOnSite(stack, ctx.values?.get(stack.name) ?? {}));
            }
            ctx.stacks = ctx.stacks!.map((stack) => ({
              name: stack.name,
              resources: compiled.get(stack.name) ?? stack.resources,
            }));
            task.title = `Compiled ${declaring.map((stack) => stack.name).join(', ')} with the site variables`;
          },
        },
        {
          title: 'Preflight',
          task: (ctx, task) =>
            task.newListr(
              preflightChecks({
                kubeconfig: options.kubeconfig,
                stacks: ctx.stacks!,
                registry: client,
                repository: options.dryRun ? undefined : ctx.plan!.images[0]?.repository,
                statePath: options.statePath,
                kubernetesVersions: ctx.checked!.manifest.requires?.kubernetes,
              }).map((check) => ({
                title: check.name,
                task: async (_c, subtask) => {
                  if (options.skipPreflight.includes(check.name)) {
                    ctx.preflight.push({ name: check.name, result: 'skipped', detail: '--skip-preflight' });
                    subtask.skip(`${check.name}: skipped (--skip-preflight)`);
                    return;
                  }
                  const detail = await check.run();
                  ctx.preflight.push({ name: check.name, result: 'passed', detail });
                  subtask.title = `${check.name}: ${detail}`;
                },
              })),
              { concurrent: false, exitOnError: true },
            ),
        },
        {
          title: `Push images to ${options.registry.host}`,
          skip: () => options.dryRun && 'dry run',
          task: async (ctx, task) => {
            const checked = ctx.checked!;
            if (checked.imagesOnSite) {
              ctx.push = presentSummary(ctx.plan!.images, checked.manifest, options.registry.host);
              task.title = `All ${ctx.push.images.length} images are already on ${options.registry.host}`;
              return;
            }
            const started = performance.now();
            let shownAt = started;
            ctx.push = await pushImages(
              {
                path: options.package,
                open: options.open,
                manifestBytes: checked.manifestBytes,
                manifest: checked.manifest,
                layout: checked,
              },
              ctx.plan!,
              client,
              {
                ...(options.signal ? { signal: options.signal } : {}),
                onProgress: (done, total) => {
                  const now = performance.now();
                  if (now - shownAt < progressIntervalMs()) return;
                  shownAt = now;
                  task.output = formatTransfer(done, total, (now - started) / 1000);
                },
              },
            );
            const { blobs, bytes } = ctx.push;
            task.title =
              `Pushed ${ctx.push.images.length} images to ${options.registry.host}: ` +
              `${blobs.pushed} blobs (${formatBytes(bytes.pushed)}) pushed, ${blobs.skipped} (${formatBytes(bytes.skipped)}) already there, ` +
              `${blobs.mounted} mounted, in ${ctx.push.seconds.toFixed(1)}s`;
          },
        },
        {
          title: 'Rewrite image references',
          task: (ctx, task) => {
            const site = { registry: options.registry.host, credentials: options.registry.credentials };
            ctx.rewritten = ctx.stacks!.map((stack) =>
              rewriteImages(stack, ctx.checked!.manifest.images, site),
            );
            const count = ctx.rewritten.reduce((sum, stack) => sum + stack.rewritten, 0);
            task.title = `Rewrote ${count} image references to ${options.registry.host} by digest`;
          },
        },
      ],
      mode,
      verified,
    );
    return {
      package: verifiedPackage(ctx.checked!),
      preflight: ctx.preflight,
      push: ctx.push,
      stacks: ctx.rewritten!.map((stack) => ({
        ...stack,
        variables: recordedVariables(ctx.values?.get(stack.name) ?? {}),
      })),
    };
  } finally {
    client.close();
    quickClient.close();
  }
}

function verifiedPackage(checked: CheckedPackage): VerifiedPackage {
  return {
    name: checked.manifest.name,
    version: checked.manifest.version,
    digest: `sha256:${sha256Hex(checked.manifestBytes)}`,
    verifiedKey: checked.verifiedKey,
    bytes: checked.bytes,
  };
}

async function verifyTask(
  ctx: Context,
  options: PrepareOptions,
  imagesOnSite: (manifest: PackageManifest) => Promise<boolean>,
  setTitle: (title: string) => void,
): Promise<void> {
  const checked = await checkPackage(options.package, options.open, {
    imagesOnSite,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  ctx.checked = checked;
  ctx.stacks = checked.specs.map((spec) => ({
    name: spec.stack,
    resources: parseSpec(spec.text, spec.path, KNOWN_TYPES).resources,
  }));
  ctx.plan = checked.imagesOnSite
    ? { images: imageTargets(checked.manifest.images), repositories: new Map(), manifests: new Map() }
    : planPush(checked.manifest.images, checked.documents);
  const signer = checked.verifiedKey ? `signed by ${checked.verifiedKey}` : 'signature NOT checked';
  const images = checked.imagesOnSite
    ? `${checked.manifest.images.length} images (already on ${options.registry.host} by digest, not read again)`
    : `${checked.manifest.images.length} images`;
  setTitle(
    `Verified ${checked.manifest.name} ${checked.manifest.version} (${formatBytes(checked.bytes)}, ${signer}): ` +
      `${ctx.stacks.length} stacks, ${images}`,
  );
}
