/**
 * Konfig stack directories as build input: each is compiled as `kdeliver compile` does
 * (its settings, then `-D`), and the package keeps, besides the spec, what the site needs
 * to compile it again with its own values: the files the compile read, the required
 * options (variables) and the values the build gave the others.
 */
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isKdeliverError, KdeliverError } from '../errors.ts';
import { uninitializedOption, type DeclaredOption } from '../kcl/builtins/option.ts';
import { compileStack, formatSpec } from '../kcl/project/compile.ts';
import { loadStack, type KonfigStack } from '../kcl/project/stack.ts';
import type { StackVariable } from './format.ts';
import type { KonfigStackFiles, PackageFile } from './package-writer.ts';

export interface CompiledKonfigStack extends KonfigStackFiles {
  /** The spec the build renders, as `kdeliver compile` prints it. */
  spec: string;
}

/**
 * File texts read from the disk on first use and kept: the compile reads its KCL files
 * through this map, so the package holds exactly the texts that were compiled.
 */
class ReadOnce extends Map<string, string> {
  override get(path: string): string | undefined {
    let text = super.get(path);
    if (text === undefined) {
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        // The loader reports a missing file itself.
        return undefined;
      }
      this.set(path, text);
    }
    return text;
  }
}

/** The settings files that `loadStack` read, relative to the stack directory, when present. */
const STACK_FILES = ['stack.yaml', 'kcl.yaml', join('ci-test', 'settings.yaml')];

function readIfPresent(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function rootRelative(stack: KonfigStack, file: string): string {
  const path = relative(stack.root, file);
  if (path.startsWith('..') || path === '')
    throw new KdeliverError(
      'input',
      'STACK_SOURCE_OUTSIDE_ROOT',
      `stack ${stack.path} compiles ${file}, which is outside its Konfig repository ${stack.root}`,
      { hint: 'Keep every file a stack compiles under the directory of its kcl.mod.' },
    );
  return path.split(sep).join('/');
}

/** kcl.mod, project.yaml, the stack's own settings files, and every KCL file the compile read. */
function sourceFiles(stack: KonfigStack, read: ReadonlyMap<string, string>): PackageFile[] {
  const settings = [
    join(stack.root, 'kcl.mod'),
    join(stack.project.dir, 'project.yaml'),
    ...STACK_FILES.map((file) => join(stack.dir, file)),
  ].flatMap((file) => {
    const content = readIfPresent(file);
    return content ? [{ path: rootRelative(stack, file), content }] : [];
  });
  const kcl = [...read].map(([file, content]) => ({ path: rootRelative(stack, file), content }));
  return [...settings, ...kcl];
}

function variablesOf(options: readonly DeclaredOption[]): StackVariable[] {
  return options
    .filter((option) => option.required)
    .map(({ name, type, help }) => ({
      name,
      ...(type === undefined ? {} : { type }),
      ...(help === undefined ? {} : { help }),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The values given to the options that are not variables; those left to their defaults stay in the source. */
function optionValues(options: readonly DeclaredOption[]): Record<string, unknown> {
  return Object.fromEntries(
    options
      .filter((option) => !option.required && option.value !== undefined)
      .map((option) => [option.name, option.value])
      .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)),
  ) as Record<string, unknown>;
}

function compile(stack: KonfigStack, defines: readonly string[], sources: ReadOnce) {
  try {
    return compileStack(stack, { options: defines, sources });
  } catch (error) {
    const option = isKdeliverError(error) ? uninitializedOption(error.message) : undefined;
    if (option === undefined) throw error;
    throw new KdeliverError(
      'input',
      'STACK_VARIABLE_UNSET',
      `stack ${stack.path} requires option ${option}, and the build has no value for it`,
      {
        hint: `Give a sample value to render the build's spec with, -D ${option}=VALUE (or in ${stack.path}/ci-test/settings.yaml); the site gives its own value at install.`,
        cause: error,
      },
    );
  }
}

/** Reads each stack directory's settings, before anything is compiled. */
export function loadKonfigStacks(dirs: readonly string[]): KonfigStack[] {
  return dirs.map((dir) => loadStack(dir));
}

/** Compiles each stack and collects what the package keeps of it. */
export function compileKonfigStacks(
  stacks: readonly KonfigStack[],
  defines: readonly string[],
): CompiledKonfigStack[] {
  return stacks.map((stack) => {
    if (stack.path === '')
      throw new KdeliverError(
        'input',
        'STACK_AT_ROOT',
        `stack ${stack.dir} is the root of its Konfig repository, which the package cannot name`,
        { hint: 'Put the stack in a directory of its own below the directory of kcl.mod.' },
      );
    const read = new ReadOnce();
    const { resources, specError, options } = compile(stack, defines, read);
    if (specError) throw specError;
    return {
      name: stack.name,
      project: stack.project.name,
      path: stack.path,
      variables: variablesOf(options),
      options: optionValues(options),
      sources: sourceFiles(stack, read),
      spec: formatSpec(resources, 'yaml'),
    };
  });
}
