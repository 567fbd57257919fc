import { KdeliverError } from '../errors.ts';
import { KdeliverCommand } from './base.ts';
import { projectArg, siteFlags, siteOptions } from './day2-flags.ts';
import { yesFlag } from './flags.ts';
import { interruptSignal } from './release-report.ts';

export default class Uninstall extends KdeliverCommand {
  static override summary = 'Delete everything an installed project put in the cluster.';
  static override description = [
    'Deletes the resources of each installed stack (the last installed stack first, each in reverse dependency',
    'order, waiting until gone), records the uninstall as a release with no resources, and removes the',
    "stacks' Secret snapshots. Images stay in the site registry. The history stays in the state.",
    'Shows the plan and asks (unless --yes). Exits 7 when a deletion fails.',
  ].join('\n');
  static override examples = ['<%= config.bin %> uninstall shop --yes'];
  static override args = { project: projectArg };
  static override flags = { ...siteFlags, yes: yesFlag };

  async run() {
    const { args, flags } = await this.parse(Uninstall);
    const { uninstallProject } = await import('../install/day2.ts');
    const result = await uninstallProject(siteOptions(flags), args.project, {
      json: this.jsonEnabled(),
      yes: flags.yes,
      signal: interruptSignal(),
    });
    for (const { stack, summary } of result.stacks) {
      if (summary.phase === 'failed')
        throw new KdeliverError(
          'operation',
          'UNINSTALL_FAILED',
          `uninstalling stack ${stack} failed:\n  ${summary.failures.map((f) => `${f.id}: ${f.message}`).join('\n  ')}`,
          { hint: 'Fix the cause, then run the uninstall again: it continues.' },
        );
      this.logToStderr(`Stack ${stack}: ${summary.counts.deleted} resources deleted.`);
    }
    return result;
  }
}
