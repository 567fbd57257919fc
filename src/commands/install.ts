import { Args, Flags } from '@oclif/core';
import { PREFLIGHT_CHECKS } from '../install/preflight-names.ts';
import { KdeliverCommand } from './base.ts';
import {
  clusterFlags,
  concurrencyFlag,
  packageOpenOptions,
  packageVerificationFlags,
  stackFlags,
  stackTarget,
  yesFlag,
} from './flags.ts';
import { requireRegistry, siteRegistryCredentials, siteRegistryFlags } from './registry-flags.ts';
import { interruptSignal, reportRelease } from './release-report.ts';

export default class Install extends KdeliverCommand {
  static override summary = 'Install a package on an air-gapped site: verify, preflight, push images, apply.';
  static override description = [
    'Reads and checks the whole package against --key first, then runs the preflight checks (api-server, rbac,',
    'registry, disk, storage-class); nothing on the site changes before both pass. Then pushes every image to',
    'the site registry in one streaming pass over the package (blobs it has are skipped), points the workloads',
    'of each stack at the site registry by digest (with a pull Secret per namespace when the registry needs',
    'credentials), and applies each stack like `kdeliver apply`: preview, confirm, apply, record.',
    'Exits 4 when the package does not verify, 5 when a preflight check fails.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> install shop-1.4.0.tar.zst --key kdeliver.pub --registry registry.site:5000 --registry-user ops',
    '<%= config.bin %> install shop-1.4.0.tar.zst --key kdeliver.pub --dry-run --skip-preflight storage-class',
  ];
  static override args = {
    file: Args.string({ description: 'Package file (or its first part, or its base name).', required: true }),
  };
  static override flags = {
    ...packageVerificationFlags,
    ...siteRegistryFlags,
    ...clusterFlags,
    project: stackFlags.project,
    state: stackFlags.state,
    yes: yesFlag,
    concurrency: concurrencyFlag,
    'dry-run': Flags.boolean({
      description: 'Verify, preflight and show the plan of each stack; push and apply nothing.',
      default: false,
    }),
    'skip-preflight': Flags.option({
      description: 'A preflight check to skip on purpose. Repeatable.',
      options: PREFLIGHT_CHECKS,
      multiple: true,
    })(),
  };

  async run() {
    const { args, flags } = await this.parse(Install);
    const { prepareInstall } = await import('../install/prepare.ts');
    const json = this.jsonEnabled();
    const prepared = await prepareInstall(
      {
        package: args.file,
        open: await packageOpenOptions(flags),
        registry: {
          host: requireRegistry(flags.registry),
          ca: flags['registry-ca'],
          credentials: await siteRegistryCredentials(flags),
        },
        kubeconfig: { path: flags.kubeconfig, context: flags.context },
        statePath: flags.state,
        skipPreflight: flags['skip-preflight'] ?? [],
        dryRun: flags['dry-run'],
      },
      { json },
    );
    const { applyRelease, previewRelease } = await import('../engine/release.ts');
    const { sha256Hex } = await import('../engine/canonical.ts');
    const { planJson, renderPlan } = await import('../ui/plan-view.ts');
    const releases = [];
    for (const stack of prepared.stacks) {
      const target = stackTarget(flags, stack.name);
      const spec = { resources: stack.resources };
      if (flags['dry-run']) {
        const plan = await previewRelease(target, spec);
        if (!json) process.stdout.write(renderPlan(plan, process.stdout));
        releases.push({ stack: stack.name, plan: planJson(plan) });
        continue;
      }
      const { confirmAction } = await import('../ui/confirm.ts');
      const { executeWithProgress } = await import('../ui/release-progress.ts');
      // The rewritten spec is what runs; its digest (pull Secret values included, hashed) names the release input.
      const loaded = { spec, digest: `sha256:${sha256Hex(JSON.stringify(stack.resources))}` };
      const summary = await applyRelease(
        target,
        loaded,
        {
          confirm: async (plan) => {
            if (!json) process.stdout.write(renderPlan(plan, process.stdout));
            return confirmAction(`Apply these changes to stack ${stack.name}?`, flags.yes);
          },
          execute: (plan, start) => executeWithProgress(plan, start, { json }),
        },
        { signal: interruptSignal() },
      );
      releases.push({ stack: stack.name, summary: reportRelease(this, stack.name, summary) });
    }
    // The stacks themselves stay out of the output: a pull Secret carries the registry password.
    return {
      ...prepared,
      stacks: prepared.stacks.map(({ name, resources, rewritten }) => ({
        name,
        resources: resources.length,
        rewritten,
      })),
      releases,
    };
  }
}
