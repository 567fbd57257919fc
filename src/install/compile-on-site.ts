/**
 * A Konfig stack compiled on site with the site's variables: its sources, as the package
 * carries them, are written to a temporary directory and compiled by the same compiler
 * `kdeliver build` used, with the build's other option values and the site's values.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SUPPORTED_RUNTIME_TYPES, validateSpec } from '../engine/spec.ts';
import { KdeliverError, isKdeliverError } from '../errors.ts';
import type { SpecResource } from '../runtimes/runtime.ts';
import type { PackageKonfigStack } from './read-package.ts';
import type { VariableValues } from './variables.ts';

export async function compileOnSite(
  stack: PackageKonfigStack,
  values: VariableValues,
): Promise<readonly SpecResource[]> {
  const [{ loadStack }, { compileStack, optionArgument }] = await Promise.all([
    import('../kcl/project/stack.ts'),
    import('../kcl/project/compile.ts'),
  ]);
  const root = await mkdtemp(join(tmpdir(), 'kdeliver-sources-'));
  // Messages name the package's entries, not the temporary directory.
  const where = `sources/${stack.name}`;
  try {
    for (const [path, text] of stack.sources) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    const options = Object.entries({ ...stack.options, ...values }).map(([name, value]) =>
      optionArgument(name, value),
    );
    const compiled = compileStack(loadStack(join(root, stack.path)), { options });
    if (compiled.specError) throw compiled.specError;
    return validateSpec(compiled.resources, `stack ${stack.name} compiled on site`, SUPPORTED_RUNTIME_TYPES)
      .resources;
  } catch (error) {
    if (!isKdeliverError(error)) throw error;
    throw new KdeliverError(
      error.kind,
      error.code,
      `stack ${stack.name} does not compile with the site's values: ${error.message.replaceAll(root, where)}`,
      { hint: 'Check the values given with --set/--values against what the stack expects.', cause: error },
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
