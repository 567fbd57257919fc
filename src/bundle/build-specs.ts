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
import type { CompiledKonfigStack } from './konfig-stacks.ts';
import type { PackageFile } from './package-writer.ts';
import type { StackResources } from './workload-images.ts';

export interface SpecInput {
  stack: string;
  path: string;
}

export interface LoadedSpecs {
  stacks: CatalogStack[];
  specs: PackageFile[];
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

/** One stack's spec text and where it came from: a spec file or a Konfig stack directory. */
interface StackSpec {
  stack: string;
  origin: string;
  text: string;
  extension: '.json' | '.yaml';
}

function checkStackNames(specs: readonly StackSpec[]): void {
  const seen = new Map<string, string>();
  for (const { stack, origin } of specs) {
    const other = seen.get(stack);
    if (other !== undefined)
      throw new KdeliverError('usage', 'STACK_DUPLICATE', `${other} and ${origin} both make stack ${stack}`, {
        hint: 'Give every stack its own name: --spec NAME=FILE, or `name:` in the stack.yaml of a Konfig stack; or build them into separate packages.',
      });
    seen.set(stack, origin);
  }
}

/**
 * Reads and validates every spec (the spec files, and those compiled from Konfig stacks);
 * all of them are checked before the first image is resolved.
 */
export async function loadSpecs(
  files: readonly SpecInput[],
  konfigStacks: readonly CompiledKonfigStack[] = [],
): Promise<LoadedSpecs> {
  const inputs: StackSpec[] = [
    ...(await Promise.all(
      files.map(async (input) => ({
        stack: input.stack,
        origin: input.path,
        text: await readSpec(input),
        extension: extname(input.path) === '.json' ? ('.json' as const) : ('.yaml' as const),
      })),
    )),
    ...konfigStacks.map((stack) => ({
      stack: stack.name,
      origin: `Konfig stack ${stack.path}`,
      text: stack.spec,
      extension: '.yaml' as const,
    })),
  ];
  checkStackNames(inputs);
  const loaded = inputs.map((input) => {
    const { text } = input;
    const { resources } = parseSpec(text, input.origin, SUPPORTED_RUNTIME_TYPES);
    const specPath = `${input.stack}/spec${input.extension}`;
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
  });
  return {
    stacks: loaded.map((l) => l.stack),
    specs: loaded.map((l) => l.spec),
    resources: loaded.map((l) => l.resources),
  };
}
