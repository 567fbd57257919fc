/**
 * `kdeliver install` and `kdeliver upgrade`: a verified, preflighted package whose images
 * are in the site registry becomes one release per stack. The project is the package's
 * name unless told otherwise. An install refuses a project that another package already
 * runs (that is an upgrade); an upgrade needs one, and also uninstalls the stacks the new
 * package no longer has. Running either again after a failure continues it.
 */
import type { ReleaseSummary, StackTarget } from '../engine/release.ts';
import { KdeliverError } from '../errors.ts';
import type { PlanJson } from '../ui/plan-view.ts';
import { installedStacks } from './installed.ts';
import { promptVariable, resolveVariables, type VariableValues } from './variables.ts';
import {
  prepareInstall,
  type PrepareOptions,
  type PreparedInstall,
  type VerifiedPackage,
} from './prepare.ts';
import {
  countedStacks,
  releaseStack,
  uninstallStack,
  type ReleaseUi,
  type StackOutcome,
} from './stack-release.ts';

export type InstallMode = 'install' | 'upgrade';

export interface InstallRequest {
  mode: InstallMode;
  prepare: Omit<PrepareOptions, 'accept'>;
  /** Defaults to the package name. */
  project: string | undefined;
  concurrency: number;
  rollbackOnFailure: boolean;
  /** Values for the stacks' variables from --values and --set; the rest comes from the last release or a prompt. */
  variables: VariableValues;
  ui: ReleaseUi;
}

export interface InstallReport {
  project: string;
  package: VerifiedPackage;
  preflight: PreparedInstall['preflight'];
  push: PreparedInstall['push'];
  stacks: { name: string; resources: number; rewritten: number }[];
  /** One per stack; a dry run has plans instead. */
  releases: (StackOutcome | { stack: string; plan: PlanJson })[];
  /** Stacks an upgrade uninstalled because the package no longer has them. */
  removed: { stack: string; summary: ReleaseSummary }[];
}

interface InstalledStack {
  stack: string;
  packageDigest: string;
  /** The variable values its newest release recorded. */
  variables: VariableValues;
}

async function installedOf(statePath: string, project: string): Promise<InstalledStack[]> {
  const { StateStore } = await import('../state/store.ts');
  const { existsSync } = await import('node:fs');
  if (!existsSync(statePath)) return [];
  const store = await StateStore.open(statePath);
  try {
    return installedStacks(await countedStacks(store, project)).map((release) => ({
      stack: release.stack,
      packageDigest: release.packageDigest,
      variables: release.variables,
    }));
  } finally {
    store.close();
  }
}

/** An install of another package over a running project, or an upgrade of nothing, stops before any change. */
export function checkInstallMode(
  mode: InstallMode,
  project: string,
  verified: VerifiedPackage,
  installed: readonly Pick<InstalledStack, 'stack' | 'packageDigest'>[],
): void {
  if (mode === 'upgrade' && installed.length === 0) {
    throw new KdeliverError(
      'usage',
      'NOT_INSTALLED',
      `${project} is not installed on this site, so there is nothing to upgrade`,
      {
        hint: 'Install it: kdeliver install PACKAGE (with --project if it was installed under another name).',
      },
    );
  }
  const other = installed.filter(({ packageDigest }) => packageDigest !== verified.digest);
  if (mode === 'install' && other.length > 0) {
    throw new KdeliverError(
      'usage',
      'ALREADY_INSTALLED',
      `${project} already runs another package on this site (stacks ${other.map(({ stack }) => stack).join(', ')})`,
      {
        hint: `Upgrade it instead: kdeliver upgrade ${verified.name} package; \`kdeliver history\` shows what runs.`,
      },
    );
  }
}

export async function installPackage(request: InstallRequest): Promise<InstallReport> {
  let project = request.project;
  let installed: InstalledStack[] = [];
  const prepared = await prepareInstall(
    {
      ...request.prepare,
      signal: request.ui.signal,
      accept: async (verified) => {
        project ??= verified.name;
        installed = await installedOf(request.prepare.statePath, project);
        checkInstallMode(request.mode, project, verified, installed);
      },
      variables: async (stacks) => {
        const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
        const declared = [];
        for (const stack of stacks) {
          const previous = installed.find((entry) => entry.stack === stack.name)?.variables ?? {};
          declared.push({ stack: stack.name, variables: stack.variables, previous });
        }
        return resolveVariables(declared, request.variables, interactive ? promptVariable : undefined);
      },
    },
    { json: request.ui.json },
  );
  const target = (stack: string): StackTarget => ({
    project: project!,
    stack,
    statePath: request.prepare.statePath,
    kubeconfig: request.prepare.kubeconfig,
    concurrency: request.concurrency,
  });
  const report: InstallReport = {
    project: project!,
    package: prepared.package,
    preflight: prepared.preflight,
    push: prepared.push,
    stacks: prepared.stacks.map(({ name, resources, rewritten }) => ({
      name,
      resources: resources.length,
      rewritten,
    })),
    releases: [],
    removed: [],
  };
  if (request.prepare.dryRun) {
    const [{ previewRelease }, { planJson, renderPlan }] = await Promise.all([
      import('../engine/release.ts'),
      import('../ui/plan-view.ts'),
    ]);
    for (const stack of prepared.stacks) {
      const plan = await previewRelease(target(stack.name), { resources: stack.resources });
      if (!request.ui.json) process.stdout.write(renderPlan(plan, process.stdout));
      report.releases.push({ stack: stack.name, plan: planJson(plan) });
    }
    return report;
  }
  for (const stack of prepared.stacks) {
    report.releases.push(
      await releaseStack(
        target(stack.name),
        {
          resources: stack.resources,
          packageDigest: prepared.package.digest,
          package: { name: prepared.package.name, version: prepared.package.version },
          variables: stack.variables,
        },
        request.ui,
        { rollbackOnFailure: request.rollbackOnFailure },
      ),
    );
  }
  if (request.mode === 'upgrade') {
    const kept = new Set(prepared.stacks.map(({ name }) => name));
    for (const { stack } of installed.filter(({ stack }) => !kept.has(stack)).reverse())
      report.removed.push({ stack, summary: await uninstallStack(target(stack), request.ui) });
  }
  return report;
}

/** Every stack release of a report that did not end well, in words; empty when all did. */
export function installFailures(report: InstallReport): string[] {
  const failures: string[] = [];
  for (const outcome of report.releases) {
    if (!('summary' in outcome) || outcome.summary.phase !== 'failed') continue;
    const { summary, rollback, note } = outcome;
    const causes = summary.failures.map((failure) => `${failure.id}: [${failure.code}] ${failure.message}`);
    const after = rollback
      ? rollback.summary.phase === 'failed'
        ? `; rolling back to revision ${rollback.toRevision} failed too`
        : `; rolled back to revision ${rollback.toRevision}`
      : note
        ? `; ${note}`
        : '; running the same command again continues it';
    failures.push(
      `stack ${outcome.stack}: release ${summary.revision} failed${after}\n    ${causes.join('\n    ')}`,
    );
  }
  for (const { stack, summary } of report.removed)
    if (summary.phase === 'failed') failures.push(`stack ${stack}: removing it failed`);
  return failures;
}
