import { Flags } from '@oclif/core';
import { KdeliverError } from '../errors.ts';
import { KdeliverCommand } from './base.ts';
import { projectArg, siteFlags, siteOptions } from './day2-flags.ts';
import { yesFlag } from './flags.ts';
import { requireRegistry, siteRegistryCredentials, siteRegistryFlags } from './registry-flags.ts';
import { interruptSignal } from './release-report.ts';

export default class Uninstall extends KdeliverCommand {
  static override summary = 'Delete everything an installed project put in the cluster.';
  static override description = [
    'Deletes the resources of each installed stack (the last installed stack first, each in reverse dependency',
    'order, waiting until gone), records the uninstall as a release with no resources, and removes the',
    "stacks' Secret snapshots. The history stays in the state. Images stay in the site registry unless",
    '--prune-images: then the manifests of the images the project ran and no other installed project runs are',
    "deleted by digest (the registry's garbage collection frees their blobs). Shows the plan and asks (unless",
    '--yes). Exits 7 when a deletion fails.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> uninstall shop --yes',
    '<%= config.bin %> uninstall shop --prune-images --registry registry.site:5000 --registry-user ops',
  ];
  static override args = { project: projectArg };
  static override flags = {
    ...siteFlags,
    yes: yesFlag,
    'prune-images': Flags.boolean({
      description: 'Also delete the images only this project runs from the site registry.',
      default: false,
    }),
    ...siteRegistryFlags,
  };

  async run() {
    const { args, flags } = await this.parse(Uninstall);
    const { uninstallProject } = await import('../install/day2.ts');
    let close = () => {};
    let pruneImages;
    if (flags['prune-images']) {
      const registry = requireRegistry(flags.registry);
      const [{ createRegistryClient }, { defaultDockerConfigPath }] = await Promise.all([
        import('../bundle/oci/registry-client.ts'),
        import('../bundle/oci/docker-config.ts'),
      ]);
      const client = await createRegistryClient({
        registry,
        ca: flags['registry-ca'],
        credentials: await siteRegistryCredentials(flags),
        dockerConfigPath: defaultDockerConfigPath(),
      });
      close = () => client.close();
      pruneImages = {
        registry,
        deleteManifest: ({ repository, digest }: { repository: string; digest: string }) =>
          client.deleteManifest(repository, digest),
      };
    }
    try {
      const result = await uninstallProject(
        siteOptions(flags),
        { project: args.project, pruneImages },
        { json: this.jsonEnabled(), yes: flags.yes, signal: interruptSignal() },
      );
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
      for (const { repository, digest } of result.pruned)
        this.logToStderr(`Deleted image ${repository}@${digest}.`);
      return result;
    } finally {
      close();
    }
  }
}
