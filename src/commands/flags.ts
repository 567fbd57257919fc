import { Flags } from '@oclif/core';
import { defaultSandboxDir } from '../sandbox/paths.ts';

/** Flags shared by several commands, defined once so that every command spells them alike. */
export const sandboxDirFlag = Flags.string({
  description: 'Directory of the sandbox (state, kubeconfig, certificates, logs).',
  default: async () => defaultSandboxDir(),
  defaultHelp: async () => '$KDELIVER_SANDBOX_DIR or ~/.local/state/kdeliver/sandbox',
});
