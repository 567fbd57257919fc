import { Flags } from '@oclif/core';
import { KdeliverCommand } from '../base.ts';
import { stackFlags } from '../flags.ts';

export default class StateExport extends KdeliverCommand {
  static override summary = 'Print the release history of a stack as JSON: releases, resources, journal.';
  static override description = [
    'Newest release first; each with the resources it recorded (Secret values as digests only) and the',
    'journal of its steps. Reads only the local state file.',
  ].join('\n');
  static override examples = ['<%= config.bin %> state export --stack prod > prod-history.json'];
  static override flags = {
    ...stackFlags,
    stack: Flags.string({ description: 'Stack whose history to export.', required: true }),
  };

  async run() {
    const { flags } = await this.parse(StateExport);
    const { StateStore } = await import('../../state/store.ts');
    const store = await StateStore.open(flags.state);
    try {
      const releases = [];
      for (const release of await store.history(flags.project, flags.stack)) {
        releases.push({
          ...release,
          resources: await store.resources(release.id),
          journal: await store.journalRecords(release.id),
        });
      }
      const history = { project: flags.project, stack: flags.stack, releases };
      if (!this.jsonEnabled()) this.log(JSON.stringify(history, null, 2));
      return history;
    } finally {
      store.close();
    }
  }
}
