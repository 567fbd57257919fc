import { Flags } from '@oclif/core';
import { KdeliverError } from '../errors.ts';
import { KdeliverCommand } from './base.ts';
import { projectArg, siteFlags, siteOptions } from './day2-flags.ts';
import { yesFlag } from './flags.ts';
import { interruptSignal } from './release-report.ts';

export default class Rollback extends KdeliverCommand {
  static override summary = 'Roll an installed project back to an earlier revision.';
  static override description = [
    'Re-applies, stack by stack, the resources an earlier revision recorded (the previous succeeded one unless',
    '--to is given), with its Secret values restored from the cluster, and records it as a new revision; the',
    'revision it replaces is marked rolled-back. Images were pushed by the install and are still in the site',
    'registry. Shows the plan and asks (unless --yes). Exits 7 when a stack fails.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> rollback shop',
    '<%= config.bin %> rollback shop --stack prod --to 3',
  ];
  static override args = { project: projectArg };
  static override flags = {
    ...siteFlags,
    stack: Flags.string({ description: 'Only this stack.' }),
    to: Flags.integer({
      description: 'The revision to go back to (of --stack when the project has several).',
      min: 1,
    }),
    yes: yesFlag,
  };

  async run() {
    const { args, flags } = await this.parse(Rollback);
    const { rollbackProject } = await import('../install/day2.ts');
    const result = await rollbackProject(
      siteOptions(flags),
      { project: args.project, stack: flags.stack, to: flags.to },
      { json: this.jsonEnabled(), yes: flags.yes, signal: interruptSignal() },
    );
    for (const { stack, fromRevision, toRevision, summary } of result.stacks) {
      if (summary.phase === 'failed')
        throw new KdeliverError(
          'operation',
          'ROLLBACK_FAILED',
          `rolling stack ${stack} back to revision ${toRevision} failed:\n  ${summary.failures.map((f) => `${f.id}: ${f.message}`).join('\n  ')}`,
          { hint: 'Fix the cause (kdeliver status), then run the rollback again.' },
        );
      this.logToStderr(
        summary.phase === 'no-op'
          ? `Stack ${stack} already matches revision ${toRevision}.`
          : `Stack ${stack}: revision ${fromRevision} rolled back to ${toRevision} as revision ${summary.revision}.`,
      );
    }
    return result;
  }
}
