import { Flags } from '@oclif/core';
import { KdeliverCommand } from './base.ts';
import { clusterFlags, concurrencyFlag, specFlag, stackFlags, stackTarget } from './flags.ts';

export default class Preview extends KdeliverCommand {
  static override summary = 'Show what applying a spec would change, without changing anything.';
  static override description = [
    'Compares three views per resource: what the last release recorded, what the spec wants and what the',
    'cluster has (read, then a server-side dry run of the spec). Prints the action and reason per resource',
    'and a unified YAML diff per changed resource; Secret values are shown only as digests. Writes nothing,',
    'takes no lock. --json prints the plan.',
  ].join('\n');
  static override examples = ['<%= config.bin %> preview --spec shop.yaml --stack prod'];
  static override flags = {
    spec: specFlag,
    ...stackFlags,
    ...clusterFlags,
    concurrency: concurrencyFlag,
    'allow-recreate': Flags.boolean({
      description:
        'Plan as `apply --allow-recreate` would: recreate resources whose immutable fields change.',
      default: false,
    }),
  };

  async run() {
    const { flags } = await this.parse(Preview);
    const { loadSpecFile, previewRelease, stackOfSpecFile } = await import('../engine/release.ts');
    const { planJson, renderPlan } = await import('../ui/plan-view.ts');
    const loaded = await loadSpecFile(flags.spec);
    const plan = await previewRelease(
      stackTarget(flags, flags.stack ?? stackOfSpecFile(flags.spec)),
      loaded.spec,
      false,
      { allowRecreate: flags['allow-recreate'] },
    );
    if (!this.jsonEnabled()) process.stdout.write(renderPlan(plan, process.stdout));
    return planJson(plan);
  }
}
