import type { Command } from '@oclif/core';

/**
 * Every command, by oclif id, imported only when it runs: loading all of them (and what they
 * import) cost every invocation ~30 MB and 0.3 s. oclif gets the commands' flags,
 * args and descriptions from manifest.json instead. Adding a command means adding it here and
 * running `node scripts/command-manifest.ts`.
 */
export const COMMANDS: Record<string, () => Promise<{ default: Command.Class }>> = {
  apply: () => import('./apply.ts'),
  build: () => import('./build.ts'),
  compile: () => import('./compile.ts'),
  destroy: () => import('./destroy.ts'),
  doctor: () => import('./doctor.ts'),
  history: () => import('./history.ts'),
  init: () => import('./init.ts'),
  inspect: () => import('./inspect.ts'),
  install: () => import('./install.ts'),
  'kcl:run': () => import('./kcl/run.ts'),
  'keys:generate': () => import('./keys/generate.ts'),
  preview: () => import('./preview.ts'),
  rollback: () => import('./rollback.ts'),
  'sandbox:up': () => import('./sandbox/up.ts'),
  'sandbox:env': () => import('./sandbox/env.ts'),
  'sandbox:down': () => import('./sandbox/down.ts'),
  'state:pull': () => import('./state/pull.ts'),
  'state:push': () => import('./state/push.ts'),
  'state:export': () => import('./state/export.ts'),
  'state:unlock': () => import('./state/unlock.ts'),
  status: () => import('./status.ts'),
  'support-bundle': () => import('./support-bundle.ts'),
  uninstall: () => import('./uninstall.ts'),
  upgrade: () => import('./upgrade.ts'),
  verify: () => import('./verify.ts'),
};
