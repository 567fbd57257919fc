import { Flags } from '@oclif/core';
import { KdeliverCommand } from './base.ts';
import { projectArg, siteFlags, siteOptions } from './day2-flags.ts';
import { siteRegistryCredentials, siteRegistryFlags } from './registry-flags.ts';

export default class SupportBundle extends KdeliverCommand {
  static override summary = 'Collect what a vendor needs to diagnose an installed project into one tar.gz.';
  static override description = [
    'Writes -o FILE atomically, a tar.gz to read offline:',
    '- bundle.json: version, time, project, what was collected, each error met',
    '- state.db: the state file as it is (it holds no Secret values)',
    "- releases.json: every release of each stack, the newest one's journal",
    '- resources/<stack>/<kind>/<namespace>/<name>.yaml: recorded resources',
    '  read live, managedFields dropped, Secret values as digests',
    '- resources/missing.txt: recorded resources the cluster lacks',
    '- status.json: what `kdeliver status --json` returns',
    '- per namespace: events/<ns>.yaml (by time), pods/<ns>.yaml (statuses),',
    '  logs/<ns>/<pod>/<container>.log (the last --tail lines)',
    '- preflight.json: api-server, rbac, disk, storage-class; registry too',
    '  with --registry',
    'Reads only. What cannot be collected is noted in bundle.json; the rest is',
    'written all the same.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> support-bundle shop -o shop-support.tar.gz',
    '<%= config.bin %> support-bundle -o support.tar.gz --tail 1000 --registry registry.site:5000',
  ];
  static override args = { project: projectArg };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'The tar.gz file to write.', required: true }),
    tail: Flags.integer({
      description: 'Lines of each container log to keep, from the end.',
      default: 200,
      min: 1,
    }),
    ...siteFlags,
    ...siteRegistryFlags,
    registry: Flags.string({
      description: 'Site registry host[:port] for the registry check; the check is skipped without one.',
      env: 'KDELIVER_REGISTRY',
    }),
  };

  async run() {
    const { args, flags } = await this.parse(SupportBundle);
    const { writeSupportBundle } = await import('../install/support-bundle.ts');
    const json = this.jsonEnabled();
    const report = await writeSupportBundle(
      {
        site: siteOptions(flags),
        project: args.project,
        output: flags.output,
        tailLines: flags.tail,
        registry:
          flags.registry === undefined
            ? undefined
            : {
                host: flags.registry,
                ca: flags['registry-ca'],
                credentials: await siteRegistryCredentials(flags),
              },
      },
      { json },
    );
    if (!json) {
      const { formatBytes } = await import('../ui/bytes.ts');
      process.stdout.write(`Wrote ${report.file} (${report.entries} files, ${formatBytes(report.bytes)}).\n`);
      if (report.errors.length > 0) {
        process.stdout.write(`Not collected (also listed in bundle.json):\n`);
        for (const { entry, message } of report.errors) process.stdout.write(`  ${entry}: ${message}\n`);
      }
    }
    return report;
  }
}
