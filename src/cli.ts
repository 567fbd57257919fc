import { Config, Errors, Plugin, flush, run, type Command, type Interfaces } from '@oclif/core';
import pkg from '../package.json' with { type: 'json' };
import { COMMANDS } from './commands/index.ts';
import manifest from './commands/manifest.json' with { type: 'json' };

/**
 * The commands are compiled in rather than discovered on disk, so the same code runs from
 * source, from the esbuild bundle and from the single executable (no files beside it).
 */
const COMMAND_MANIFEST = manifest as unknown as Record<string, Command.Cached>;

/** package.json as oclif reads it; without `commands`, as CompiledPlugin supplies them. */
export const PJSON: Interfaces.PJSON = { ...pkg, oclif: { ...pkg.oclif, topicSeparator: ' ' } };

/**
 * The root plugin: oclif parses, lists and describes the commands from the manifest, and a
 * command's module is imported only when it runs or shows its help.
 */
class CompiledPlugin extends Plugin {
  override async load(): Promise<void> {
    await super.load();
    this.commandIDs = Object.keys(COMMANDS);
    this.commands = this.commandIDs
      .map((id) => ({
        ...COMMAND_MANIFEST[id]!,
        pluginAlias: this.alias,
        pluginType: this.type,
        load: () => this.loadCommand(id),
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  private async loadCommand(id: string): Promise<Command.Class> {
    const { default: command } = await COMMANDS[id]!();
    command.id = id;
    command.plugin = this;
    return command;
  }
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const root = import.meta.dirname ?? process.cwd();
  // ignoreManifest: oclif would look for an oclif.manifest.json beside the code.
  const plugin = new CompiledPlugin({ root, pjson: PJSON, isRoot: true, ignoreManifest: true });
  await plugin.load();
  const config = await Config.load({ root, pjson: plugin.pjson, plugins: new Map([[plugin.name, plugin]]) });
  try {
    await run(argv, config);
    await flush();
  } catch (error) {
    await Errors.handle(error as Error);
  }
}
