import { Flags } from '@oclif/core';
import { KdeliverCommand } from './base.ts';
import { projectArg } from './day2-flags.ts';
import { stackFlags } from './flags.ts';

export default class History extends KdeliverCommand {
  static override summary = "List an installed project's releases.";
  static override description =
    'Every revision of each stack from the state file, newest first: phase, package, operator, times, error.';
  static override examples = [
    '<%= config.bin %> history shop',
    '<%= config.bin %> history --stack prod --json',
  ];
  static override args = { project: projectArg };
  static override flags = {
    state: stackFlags.state,
    stack: Flags.string({ description: 'Only this stack.' }),
  };

  async run() {
    const { args, flags } = await this.parse(History);
    const [{ projectHistory }, { renderTable }] = await Promise.all([
      import('../install/day2.ts'),
      import('../ui/table.ts'),
    ]);
    const result = await projectHistory(flags.state, args.project, flags.stack);
    if (!this.jsonEnabled()) {
      process.stdout.write(
        renderTable(
          ['STACK', 'REVISION', 'PHASE', 'PACKAGE', 'RESOURCES', 'STARTED', 'OPERATOR', 'ERROR'],
          result.releases.map((r) => [
            r.stack,
            String(r.revision),
            r.phase,
            r.package ?? '-',
            String(r.resources),
            r.startedAt.replace(/\.\d+Z$/, 'Z'),
            r.operator,
            (r.error ?? '').split('\n')[0]!,
          ]),
        ),
      );
    }
    return result;
  }
}
