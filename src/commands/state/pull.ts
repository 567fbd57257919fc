import { Flags } from '@oclif/core';
import { KdeliverCommand } from '../base.ts';
import { clusterFlags, stackFlags } from '../flags.ts';

export default class StatePull extends KdeliverCommand {
  static override summary = 'Replace the local state file with the copy a stack keeps in the cluster.';
  static override description = [
    'Reads the chunked copy from Secrets in kdeliver-system, checks its size and digest against its manifest',
    'and that it is a sound SQLite database, then writes it over the local state file (atomically). Use it',
    'to take over a site from another machine.',
  ].join('\n');
  static override examples = ['<%= config.bin %> state pull --stack prod'];
  static override flags = {
    ...stackFlags,
    stack: Flags.string({ description: 'Stack whose copy to read.', required: true }),
    ...clusterFlags,
  };

  async run() {
    const { flags } = await this.parse(StatePull);
    const { KubeClient } = await import('../../runtimes/kubernetes/client.ts');
    const { loadKubeconfig } = await import('../../runtimes/kubernetes/kubeconfig.ts');
    const { pullStateCopy } = await import('../../state/cluster-copy.ts');
    const { StateStore } = await import('../../state/store.ts');
    const client = new KubeClient(loadKubeconfig({ path: flags.kubeconfig, context: flags.context }));
    const bytes = await pullStateCopy(client, flags.stack);
    const store = await StateStore.open(flags.state, { create: true });
    try {
      await store.replace(bytes);
    } finally {
      store.close();
    }
    this.logToStderr(
      `Wrote the state copy of stack ${flags.stack} (${bytes.length} bytes) to ${flags.state}.`,
    );
    return { stack: flags.stack, path: flags.state, bytes: bytes.length };
  }
}
