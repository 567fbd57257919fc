import { Flags } from '@oclif/core';
import { KdeliverCommand } from '../base.ts';
import { clusterFlags, stackFlags } from '../flags.ts';

export default class StatePush extends KdeliverCommand {
  static override summary = "Write the local state file to the cluster as the stack's state copy.";
  static override description = [
    'Takes the stack lock, then writes the local state file as chunked Secrets in kdeliver-system and',
    "switches the copy's manifest to them; the previous copy stays readable until the switch. Apply and",
    'destroy do this after every release; use it when that last step failed.',
  ].join('\n');
  static override examples = ['<%= config.bin %> state push --stack prod'];
  static override flags = {
    ...stackFlags,
    stack: Flags.string({ description: 'Stack whose copy to write.', required: true }),
    ...clusterFlags,
  };

  async run() {
    const { flags } = await this.parse(StatePush);
    const { KubeClient } = await import('../../runtimes/kubernetes/client.ts');
    const { loadKubeconfig } = await import('../../runtimes/kubernetes/kubeconfig.ts');
    const { pushStateCopy } = await import('../../state/cluster-copy.ts');
    const { StackLease } = await import('../../state/lease-lock.ts');
    const { StateStore } = await import('../../state/store.ts');
    const client = new KubeClient(loadKubeconfig({ path: flags.kubeconfig, context: flags.context }));
    const store = await StateStore.open(flags.state);
    try {
      const lease = await StackLease.acquire(client, flags.stack);
      try {
        const pushed = await pushStateCopy(client, flags.stack, await store.bytes(), lease.lost);
        this.logToStderr(
          `Pushed ${flags.state} as the state copy of stack ${flags.stack} (${pushed.sha256}).`,
        );
        return pushed;
      } finally {
        await lease.release();
      }
    } finally {
      store.close();
    }
  }
}
