import { Args, Flags, type Command } from '@oclif/core';
import { PREFLIGHT_CHECKS } from '../install/preflight-names.ts';
import type { InstallMode, InstallReport } from '../install/install-package.ts';
import { KdeliverError } from '../errors.ts';
import { KdeliverCommand } from './base.ts';
import {
  clusterFlags,
  concurrencyFlag,
  packageOpenOptions,
  packageVerificationFlags,
  stackFlags,
  yesFlag,
} from './flags.ts';
import { requireRegistry, siteRegistryCredentials, siteRegistryFlags } from './registry-flags.ts';
import { interruptSignal } from './release-report.ts';

/** The flags of install and upgrade, which run the same steps. */
export const installFlags = {
  ...packageVerificationFlags,
  ...siteRegistryFlags,
  ...clusterFlags,
  project: Flags.string({
    description: 'Project the stacks are installed as.',
    defaultHelp: 'the package name',
  }),
  state: stackFlags.state,
  yes: yesFlag,
  concurrency: concurrencyFlag,
  'dry-run': Flags.boolean({
    description: 'Verify, preflight and show the plan of each stack; push and apply nothing.',
    default: false,
  }),
  'skip-preflight': Flags.option({
    description: 'A preflight check to skip on purpose. Repeatable.',
    options: PREFLIGHT_CHECKS,
    multiple: true,
  })(),
  set: Flags.string({
    description:
      'A value for a variable the stacks declare (KCL option(..., required=True)): NAME=VALUE. Repeatable.',
    multiple: true,
  }),
  values: Flags.string({ description: 'YAML file of variable values (NAME: VALUE); --set wins over it.' }),
  'rollback-on-failure': Flags.boolean({
    description: "Roll a failed stack back to its previous revision, whatever its apps' pipelines say.",
    default: false,
  }),
};

export const packageArg = Args.string({
  description: 'Package file (or its first part, or its base name).',
  required: true,
});

/** Install's flags as parsed. */
interface InstallCommandFlags {
  key?: string;
  'insecure-skip-verify': boolean;
  registry?: string;
  'registry-ca'?: string;
  'registry-user'?: string;
  'registry-password-env'?: string;
  kubeconfig?: string;
  context?: string;
  project?: string;
  state: string;
  yes: boolean;
  concurrency: number;
  'dry-run': boolean;
  'skip-preflight'?: (typeof PREFLIGHT_CHECKS)[number][];
  'rollback-on-failure': boolean;
  set?: string[];
  values?: string;
}

/** Runs install or upgrade from parsed flags; prints one line per stack and fails (exit 7) when a stack did. */
export async function runInstall(
  command: Command,
  mode: InstallMode,
  file: string,
  f: InstallCommandFlags,
  json: boolean,
): Promise<InstallReport> {
  const [{ installPackage, installFailures }, { parseSetArguments, readValuesFile }] = await Promise.all([
    import('../install/install-package.ts'),
    import('../install/variables.ts'),
  ]);
  const variables = {
    ...(f.values === undefined ? {} : await readValuesFile(f.values)),
    ...parseSetArguments(f.set ?? []),
  };
  const report = await installPackage({
    mode,
    prepare: {
      package: file,
      open: await packageOpenOptions(f),
      registry: {
        host: requireRegistry(f.registry),
        ca: f['registry-ca'],
        credentials: await siteRegistryCredentials(f),
      },
      kubeconfig: { path: f.kubeconfig, context: f.context },
      statePath: f.state,
      skipPreflight: f['skip-preflight'] ?? [],
      dryRun: f['dry-run'],
    },
    project: f.project,
    concurrency: f.concurrency,
    rollbackOnFailure: f['rollback-on-failure'],
    variables,
    ui: { json, yes: f.yes, signal: interruptSignal() },
  });
  if (!json) {
    for (const outcome of report.releases) {
      if (!('summary' in outcome)) continue;
      const { counts, phase, revision } = outcome.summary;
      command.logToStderr(
        phase === 'no-op'
          ? `Stack ${outcome.stack} is up to date.`
          : `Stack ${outcome.stack}: release ${revision} ${phase} (${counts.created} created, ${counts.updated} updated, ` +
              `${counts.deleted} deleted, ${counts.unchanged} unchanged, ${counts.failed} failed, ${counts.skipped} skipped)` +
              (outcome.rollback ? `; rolled back to revision ${outcome.rollback.toRevision}` : ''),
      );
    }
    for (const { stack } of report.removed)
      command.logToStderr(`Stack ${stack}: uninstalled (not in the package).`);
  }
  const failures = installFailures(report);
  if (failures.length > 0) {
    throw new KdeliverError(
      'operation',
      'INSTALL_FAILED',
      `the ${mode} of ${report.project} did not succeed:\n  ${failures.join('\n  ')}`,
      {
        hint: 'Fix the cause (kdeliver status shows each resource), then run the same command again.',
      },
    );
  }
  return report;
}

export default class Install extends KdeliverCommand {
  static override summary = 'Install a package on an air-gapped site: verify, preflight, push images, apply.';
  static override description = [
    'Reads and checks the whole package against --key first, then runs the preflight checks (api-server, rbac,',
    'registry, disk, storage-class); nothing on the site changes before both pass. Then pushes every image to',
    'the site registry in one streaming pass over the package (blobs it has are skipped), points the workloads',
    'of each stack at the site registry by digest (with a pull Secret per namespace when the registry needs',
    'credentials), and applies each stack: preview, confirm (always asked when an app pipeline says',
    'manualApprove), apply with health waits, record. A failed stack rolls back to its previous revision when',
    'its app pipeline says rollbackIfFailed or with --rollback-on-failure; otherwise running install again',
    'continues it. The project defaults to the package name; installing another package over it is refused',
    '(use upgrade). Exits 4 when the package does not verify, 5 when a preflight check fails, 7 when a stack failed.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> install shop-1.4.0.tar.zst --key kdeliver.pub --registry registry.site:5000 --registry-user ops',
    '<%= config.bin %> install shop-1.4.0.tar.zst --key kdeliver.pub --dry-run --skip-preflight storage-class',
  ];
  static override args = { file: packageArg };
  static override flags = installFlags;

  async run() {
    const { args, flags } = await this.parse(Install);
    return runInstall(this, 'install', args.file, flags, this.jsonEnabled());
  }
}
