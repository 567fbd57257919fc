import { Flags } from '@oclif/core';
import { loadPublicKey } from '../bundle/keys.ts';
import type { OpenPackageOptions } from '../bundle/package-reader.ts';
import { defaultSandboxDir } from '../sandbox/paths.ts';

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
