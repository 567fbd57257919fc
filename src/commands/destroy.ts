import { Flags } from '@oclif/core';
import { KdeliverCommand } from './base.ts';
import { clusterFlags, concurrencyFlag, stackFlags, stackTarget, yesFlag } from './flags.ts';
import { interruptSignal, reportRelease } from './release-report.ts';

export default class Destroy extends KdeliverCommand {
  static override summary = "Delete everything a stack's releases applied, and record that.";
  static override description = [
    'Takes the stack lock, shows what will be deleted and asks for confirmation (unless --yes), then deletes',
    'the resources the last releases recorded in reverse dependency order (a Deployment before its',
    'ConfigMap, both before their Namespace), waiting for each to be gone. Records a release with no',
    'resources. Exits 7 when a deletion failed.',
  ].join('\n');
  static override examples = ['<%= config.bin %> destroy --stack prod'];
  static override flags = {
    ...stackFlags,
    stack: Flags.string({ description: 'Stack name.', required: true }),
    ...clusterFlags,
    yes: yesFlag,
    concurrency: concurrencyFlag,
  };

  async run() {
    const { flags } = await this.parse(Destroy);
    const { destroyRelease } = await import('../engine/release.ts');
    const { confirmAction } = await import('../ui/confirm.ts');
    const { renderPlan } = await import('../ui/plan-view.ts');
    const { executeWithProgress } = await import('../ui/release-progress.ts');
    const json = this.jsonEnabled();
    const target = stackTarget(flags, flags.stack);
    const summary = await destroyRelease(
      target,
      {
        confirm: async (plan) => {
          if (!json) process.stdout.write(renderPlan(plan, process.stdout));
          return confirmAction(`Delete these resources of stack ${target.stack}?`, flags.yes);
        },
        execute: (plan, start) => executeWithProgress(plan, start, { json }),
      },
      { signal: interruptSignal() },
    );
    return reportRelease(this, target.stack, summary);
  }
}
