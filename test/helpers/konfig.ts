/** The `kdeliver init` scaffold as build input, with a required option of the tests' own. */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PackageKonfigStack } from '../../src/install/read-package.ts';
import { compileStack, formatSpec } from '../../src/kcl/project/compile.ts';
import { writeScaffold } from '../../src/kcl/project/scaffold.ts';
import { loadStack } from '../../src/kcl/project/stack.ts';

/** The option the dev stack requires: it labels the web app's resources `shop.example/site: <value>`. */
export const SITE_OPTION = { name: 'site', type: 'str', help: 'The site name' };

/**
 * Writes the scaffold (project `shop`, stacks `shop/dev` and `shop/prod`) into `root` and
 * makes the dev stack require `site`. With `registry`, images written as
 * `registry.example/shop/…` move to `<registry>/shop/…`; a scaffold that takes the
 * registry as option `image_registry` needs `-D image_registry=<registry>` instead.
 */
export async function writeShopKonfig(root: string, registry?: string) {
  writeScaffold(root);
  await appendFile(
    join(root, 'shop', 'dev', 'main.k'),
    `\nweb: m.App {\n    labels = {"shop.example/site" = option("${SITE_OPTION.name}", type="${SITE_OPTION.type}", required=True, help="${SITE_OPTION.help}")}\n}\n`,
  );
  if (registry) {
    const base = join(root, 'shop', 'base', 'base.k');
    const text = await readFile(base, 'utf8');
    await writeFile(base, text.replaceAll('registry.example/shop/', `${registry}/shop/`));
  }
}

/**
 * Compiles a packaged Konfig stack as a site would: its sources written under `dir`, the
 * options the build recorded, and `values` for its variables (one without a value keeps
 * the sample in the stack's ci-test/settings.yaml). Returns the spec text.
 */
export async function compilePackagedStack(
  dir: string,
  stack: PackageKonfigStack,
  values: Record<string, string>,
): Promise<string> {
  for (const [path, text] of stack.sources) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const options = [
    ...Object.entries(stack.options).map(([key, value]) => `${key}=${JSON.stringify(value)}`),
    ...stack.variables.flatMap((variable) =>
      variable.name in values ? [`${variable.name}=${values[variable.name]}`] : [],
    ),
  ];
  const { resources, specError } = compileStack(loadStack(join(dir, stack.path)), { options });
  if (specError) throw specError;
  return formatSpec(resources, 'yaml');
}
