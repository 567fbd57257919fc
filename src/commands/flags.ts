import { Flags } from '@oclif/core';
import { loadPublicKey } from '../bundle/keys.ts';
import type { OpenPackageOptions } from '../bundle/package-reader.ts';
import { defaultSandboxDir } from '../sandbox/paths.ts';
import { DEFAULT_CONCURRENCY } from '../engine/executor.ts';
import type { StackTarget } from '../engine/release.ts';
import { defaultStatePath } from '../state/default-path.ts';

/** Flags shared by several commands, defined once so that every command spells them alike. */
export const sandboxDirFlag = Flags.string({
  description: 'Directory of the sandbox (state, kubeconfig, certificates, logs).',
  default: async () => defaultSandboxDir(),
  defaultHelp: async () => '$KDELIVER_SANDBOX_DIR or ~/.local/state/kdeliver/sandbox',
});

/** How every package consumer is told which key to trust. */
export const packageVerificationFlags = {
  key: Flags.string({ description: 'Public key (kdeliver.pub) the package must be signed with.' }),
  'insecure-skip-verify': Flags.boolean({
    description:
      'Accept a package without checking its signature (digests are still checked). Prints a warning.',
    default: false,
  }),
};

/**
 * Open options from those flags. Skipping verification always warns on stderr, with
 * --json too (oclif's own warn() is silent then), so that stdout stays clean JSON.
 */
export async function packageOpenOptions(flags: {
  key?: string;
  'insecure-skip-verify': boolean;
}): Promise<OpenPackageOptions> {
  return {
    publicKey: flags.key === undefined ? undefined : await loadPublicKey(flags.key),
    insecureSkipVerify: flags['insecure-skip-verify'],
    onWarning: (message) => process.stderr.write(`Warning: ${message}\n`),
  };
}

/** The spec file a release command works on. */
export const specFlag = Flags.string({
  description: 'The spec file (YAML or JSON) built from the Konfig stack.',
  required: true,
});

/** Which cluster: kubectl's own conventions. */
export const clusterFlags = {
  kubeconfig: Flags.string({
    description: 'Kubeconfig file of the site.',
    defaultHelp: async () => '$KUBECONFIG, else ~/.kube/config',
  }),
  context: Flags.string({
    description: 'Context of the kubeconfig to use.',
    defaultHelp: async () => 'its current context',
  }),
};

/** Which stack of which project, and where its release state is kept. */
export const stackFlags = {
  stack: Flags.string({ description: 'Stack name.' }),
  project: Flags.string({ description: 'Project the stack belongs to.', default: 'default' }),
  state: Flags.string({
    description: 'Local release state file.',
    default: async () => defaultStatePath(),
    defaultHelp: async () => '$KDELIVER_STATE or ~/.local/state/kdeliver/state.db',
  }),
};

export const yesFlag = Flags.boolean({
  char: 'y',
  description: 'Go ahead without asking for confirmation (needed when not at a terminal).',
  default: false,
});

export const concurrencyFlag = Flags.integer({
  description: 'Resources read, applied or deleted at once.',
  default: DEFAULT_CONCURRENCY,
  min: 1,
});

/** The engine's view of the stack flags; `stack` is resolved by the caller (flag or spec file name). */
export function stackTarget(
  flags: { project: string; state: string; kubeconfig?: string; context?: string; concurrency: number },
  stack: string,
): StackTarget {
  return {
    project: flags.project,
    stack,
    statePath: flags.state,
    kubeconfig: { path: flags.kubeconfig, context: flags.context },
    concurrency: flags.concurrency,
  };
}
