/**
 * Writes src/commands/manifest.json: every command's flags, args and descriptions as oclif
 * caches them, so that the CLI can parse, list and describe commands without importing their
 * modules. `npm run build:bin` runs it; test/unit/cli.test.ts fails when the file is stale.
 *
 *   node scripts/command-manifest.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Plugin, type Command } from '@oclif/core';
import { format, resolveConfig } from 'prettier';
import { PJSON } from '../src/cli.ts';
import { COMMANDS } from '../src/commands/index.ts';

const root = join(import.meta.dirname, '..');
export const COMMAND_MANIFEST_PATH = join(root, 'src', 'commands', 'manifest.json');

/** What oclif's `oclif manifest` would record for each command, computed from the command classes. */
export async function commandManifest(): Promise<Record<string, Command.Cached>> {
  const classes = Object.fromEntries(
    await Promise.all(Object.entries(COMMANDS).map(async ([id, load]) => [id, (await load()).default])),
  );
  const plugin = new Plugin({
    root,
    isRoot: true,
    ignoreManifest: true,
    pjson: {
      ...PJSON,
      oclif: {
        ...PJSON.oclif,
        commands: { strategy: 'explicit', target: 'COMMANDS', identifier: 'COMMANDS' },
      },
    },
  });
  // Without its command cache filled, oclif would import the explicit target from disk; the
  // cache is not public API, and the CLI tests check the result on every oclif update.
  (plugin as unknown as { commandCache: typeof classes }).commandCache = classes;
  await plugin.load();
  return plugin.manifest.commands;
}

/** Rewrites the manifest; true when it changed. */
export async function writeCommandManifest(): Promise<boolean> {
  const text = await format(JSON.stringify(await commandManifest()), {
    ...(await resolveConfig(COMMAND_MANIFEST_PATH)),
    parser: 'json',
  });
  const previous = await readFile(COMMAND_MANIFEST_PATH, 'utf8').catch(() => '');
  if (text === previous) return false;
  await writeFile(COMMAND_MANIFEST_PATH, text);
  return true;
}

if (import.meta.main) {
  const changed = await writeCommandManifest();
  console.log(`src/commands/manifest.json ${changed ? 'updated' : 'up to date'}`);
}
