import { Flags } from '@oclif/core';
import { KdeliverError } from '../../errors.ts';
import { KdeliverCommand } from '../base.ts';
import { clusterFlags } from '../flags.ts';

export default class StateUnlock extends KdeliverCommand {
  static override summary = "Remove a stack's lock whoever holds it, for a run that died on another machine.";
  static override description = [
    'A lock whose holder stops renewing it expires on its own after its duration (60 s), and a holder that',
    'was a process of this user on this machine is taken over at once; this removes it immediately. Only',
    'use it when the holder is certainly gone: two runs on one stack at once can leave it half applied.',
  ].join('\n');
  static override examples = ['<%= config.bin %> state unlock --stack prod --force'];
  static override flags = {
    stack: Flags.string({ description: 'Stack whose lock to remove.', required: true }),
    force: Flags.boolean({ description: 'Confirm that the holder is gone.', default: false }),
    ...clusterFlags,
  };

  async run() {
    const { flags } = await this.parse(StateUnlock);
    if (!flags.force) {
      throw new KdeliverError(
        'usage',
        'UNLOCK_NEEDS_FORCE',
        'state unlock removes a lock that may still be in use',
        {
          hint: 'Check that the holder is gone, then pass --force.',
        },
      );
    }
    const { KubeClient } = await import('../../runtimes/kubernetes/client.ts');
    const { loadKubeconfig } = await import('../../runtimes/kubernetes/kubeconfig.ts');
    const { forceUnlock } = await import('../../state/lease-lock.ts');
    const client = new KubeClient(loadKubeconfig({ path: flags.kubeconfig, context: flags.context }));
    const holder = await forceUnlock(client, flags.stack);
    this.logToStderr(
      holder
        ? `Removed the lock of stack ${flags.stack} held by ${holder.identity}.`
        : `Stack ${flags.stack} was not locked.`,
    );
    return { stack: flags.stack, holder: holder ?? null };
  }
}
