import { Config, Errors, Plugin, flush, run, type Interfaces } from '@oclif/core';
import pkg from '../package.json' with { type: 'json' };
import { COMMANDS } from './commands/index.ts';

/**
 * The command table is compiled in rather than discovered on disk, so the same code runs
 * from source, from the esbuild bundle and from the single executable (no files beside it).
 */
const pjson: Interfaces.PJSON = {
  ...pkg,
  oclif: {
    ...pkg.oclif,
    topicSeparator: ' ',
    commands: { strategy: 'explicit', target: './src/commands/index.ts', identifier: 'COMMANDS' },
  },
};

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const root = import.meta.dirname ?? process.cwd();
  const plugin = new Plugin({ root, pjson, isRoot: true });
  // oclif imports an explicit command target from disk unless its command cache is filled;
  // the cache is not public API, so this line is covered by the CLI tests on every oclif update.
  (plugin as unknown as { commandCache: typeof COMMANDS }).commandCache = COMMANDS;
  await plugin.load();
  const config = await Config.load({ root, pjson, plugins: new Map([[plugin.name, plugin]]) });
  try {
    await run(argv, config);
    await flush();
  } catch (error) {
    await Errors.handle(error as Error);
  }
}
