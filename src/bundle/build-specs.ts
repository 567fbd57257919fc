/**
 * The specs a build packages: each file is one stack, validated before anything is
 * fetched, stored in the package byte for byte (`specs/<stack>/spec.yaml` or `.json`),
 * and described resource by resource in the catalog.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { kubernetesIdOf } from '../engine/kubernetes-id.ts';
import { SUPPORTED_RUNTIME_TYPES, parseSpec } from '../engine/spec.ts';
import { KdeliverError, messageOf } from '../errors.ts';
import type { CatalogStack } from '../state/catalog.ts';
import { isSafeEntryName, SPECS_DIR } from './format.ts';
import type { SpecFile } from './package-writer.ts';
import type { StackResources } from './workload-images.ts';

export interface SpecInput {
  stack: string;
  path: string;
}

export interface LoadedSpecs {
  stacks: CatalogStack[];
  specs: SpecFile[];
  resources: StackResources[];
}

const STACK_PREFIX = /^([A-Za-z0-9_][A-Za-z0-9._-]*)=(.+)$/;

function isStackName(name: string): boolean {
  return !name.includes('/') && isSafeEntryName(name);
}

/** `--spec FILE` names the stack after the file (`shop.yaml` is stack `shop`); `--spec NAME=FILE` names it. */
export function parseSpecArgument(text: string): SpecInput {
  const named = STACK_PREFIX.exec(text);
  if (named) return { stack: named[1]!, path: named[2]! };
  const stack = basename(text, extname(text));
  if (!isStackName(stack))
    throw new KdeliverError(
      'usage',
      'STACK_NAME_INVALID',
      `--spec ${text}: the stack name ${JSON.stringify(stack)} taken from the file name is not a plain name`,
      { hint: 'Name the stack explicitly: --spec NAME=FILE, with letters, digits, ".", "_" and "-".' },
    );
  return { stack, path: text };
}

async function readSpec(input: SpecInput): Promise<string> {
  try {
    return await readFile(input.path, 'utf8');
  } catch (error) {
    throw new KdeliverError(
      'input',
      'SPEC_NOT_FOUND',
      `cannot read spec ${input.path}: ${messageOf(error)}`,
      {
        hint: 'Check the path given with --spec.',
        cause: error,
      },
    );
  }
}

/** Reads and validates every spec; all of them are checked before the first image is resolved. */
export async function loadSpecs(inputs: readonly SpecInput[]): Promise<LoadedSpecs> {
  const seen = new Set<string>();
  for (const { stack } of inputs) {
    if (seen.has(stack))
      throw new KdeliverError('usage', 'STACK_DUPLICATE', `two specs make stack ${stack}`, {
        hint: 'Give every spec its own stack name: --spec NAME=FILE.',
      });
    seen.add(stack);
  }
  const loaded = await Promise.all(
    inputs.map(async (input) => {
      const text = await readSpec(input);
      const { resources } = parseSpec(text, input.path, SUPPORTED_RUNTIME_TYPES);
      const specPath = `${input.stack}/spec${extname(input.path) === '.json' ? '.json' : '.yaml'}`;
      const stack: CatalogStack = {
        name: input.stack,
        resources: resources.map((resource) => {
          const id = kubernetesIdOf(resource);
          return {
            id: resource.id,
            kind: id?.kind ?? resource.type,
            namespace: id?.namespace ?? null,
            dependsOn: resource.dependsOn ?? [],
            specPath: `${SPECS_DIR}${specPath}`,
          };
        }),
        validations: [],
      };
      return { stack, spec: { path: specPath, content: text }, resources: { name: input.stack, resources } };
    }),
  );
  return {
    stacks: loaded.map((l) => l.stack),
    specs: loaded.map((l) => l.spec),
    resources: loaded.map((l) => l.resources),
  };
}
