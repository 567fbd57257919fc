import { Flags } from '@oclif/core';
import { KdeliverCommand } from './base.ts';
import { clusterFlags, concurrencyFlag, specFlag, stackFlags, stackTarget, yesFlag } from './flags.ts';
import { reportRelease, interruptSignal } from './release-report.ts';

export default class Apply extends KdeliverCommand {
  static override summary = 'Apply a spec to a stack: preview, confirm, apply in dependency order, record.';
  static override description = [
    'Takes the stack lock, shows the plan and asks for confirmation (unless --yes), then applies resources in',
    'dependency order, waiting for each to be healthy before its dependents start; a failed resource skips',
    'what depends on it while independent branches go on. Every step is journaled in the state file; the',
    'release and the in-cluster state copy are written at the end. Exits 7 when a resource failed: the',
    'release is recorded as failed, and running apply again resumes from what the cluster has; with --json the',
    'summary (counts, failures, skipped) is printed then too. A change to a field that cannot change in place',
    'fails the plan unless the resource allows recreating it or --allow-recreate is given. With --no-wait a',
    'resource counts as done (and its dependents start) once the API server accepted it, without waiting for',
    'it to become healthy.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> apply --spec shop.yaml --stack prod',
    '<%= config.bin %> apply --spec shop.yaml -y --concurrency 20',
    '<%= config.bin %> apply --spec shop.yaml -y --no-wait',
  ];
  static override flags = {
    spec: specFlag,
    ...stackFlags,
    ...clusterFlags,
    yes: yesFlag,
    concurrency: concurrencyFlag,
    'force-conflicts': Flags.boolean({
      description: 'Take over fields that another field manager owns (server-side apply conflicts).',
      default: false,
    }),
    wait: Flags.boolean({
      description:
        'Wait until each resource is healthy before its dependents start and the release counts as succeeded.',
      default: true,
      allowNo: true,
    }),
    'allow-recreate': Flags.boolean({
      description:
        'Delete and create again resources whose change touches fields that cannot change in place (a Job template, a Deployment selector).',
      default: false,
    }),
  };

  async run() {
    const { flags } = await this.parse(Apply);
    const { applyRelease, loadSpecFile, stackOfSpecFile } = await import('../engine/release.ts');
    const { confirmAction } = await import('../ui/confirm.ts');
    const { renderPlan } = await import('../ui/plan-view.ts');
    const { executeWithProgress } = await import('../ui/release-progress.ts');
    const json = this.jsonEnabled();
    const loaded = await loadSpecFile(flags.spec);
    const target = stackTarget(flags, flags.stack ?? stackOfSpecFile(flags.spec));
    const summary = await applyRelease(
      target,
      loaded,
      {
        confirm: async (plan) => {
          if (!json) process.stdout.write(renderPlan(plan, process.stdout));
          return confirmAction(`Apply these changes to stack ${target.stack}?`, flags.yes);
        },
        execute: (plan, start) => executeWithProgress(plan, start, { json }),
      },
      {
        forceConflicts: flags['force-conflicts'],
        allowRecreate: flags['allow-recreate'],
        waitForHealth: flags.wait,
        signal: interruptSignal(),
      },
    );
    return reportRelease(this, target.stack, summary);
  }
}
