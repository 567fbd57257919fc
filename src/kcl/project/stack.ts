/**
 * A Konfig stack on disk: the repository root (the directory of the nearest `kcl.mod`
 * above), the project (the nearest `project.yaml` between the stack and the root), the
 * stack's own `stack.yaml`, and its compile settings.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KdeliverError } from '../../errors.ts';
import { findModRoot } from '../loader.ts';
import { readCompileSettings, type CompileSettings } from './settings.ts';

export interface KonfigProject {
  name: string;
  dir: string;
}

export interface KonfigStack {
  /** Directory of the root `kcl.mod`. */
  root: string;
  dir: string;
  /** The stack directory relative to the root, with `/`: `appops/guestbook/dev`. */
  path: string;
  name: string;
  project: KonfigProject;
  settings: CompileSettings;
}

/** `name` from a `project.yaml` or `stack.yaml`, or the directory name when there is none. */
function declaredName(file: string): string {
  const fallback = basename(dirname(file));
  if (!existsSync(file)) return fallback;
  const data: unknown = parseYaml(readFileSync(file, 'utf8'));
  const name = data && typeof data === 'object' ? (data as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name !== '' ? name : fallback;
}

function findProjectDir(stackDir: string, root: string): string {
  for (let dir = dirname(stackDir); dir.startsWith(root); dir = dirname(dir)) {
    if (existsSync(join(dir, 'project.yaml'))) return dir;
    if (dir === root) break;
  }
  // A stack without a project file belongs to its parent directory.
  return dirname(stackDir);
}

export function loadStack(stackDir: string): KonfigStack {
  const dir = resolve(stackDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new KdeliverError('input', 'STACK_NOT_FOUND', `${stackDir} is not a directory`);
  }
  const root = findModRoot(dir);
  if (root === undefined) {
    throw new KdeliverError(
      'input',
      'KONFIG_ROOT_NOT_FOUND',
      `no kcl.mod in ${dir} or any directory above it`,
      {
        hint: 'A Konfig repository has kcl.mod at its root; create one with: kdeliver init DIR',
      },
    );
  }
  const kclYaml = join(dir, 'kcl.yaml');
  if (!existsSync(kclYaml) && !existsSync(join(dir, 'stack.yaml'))) {
    throw new KdeliverError(
      'input',
      'STACK_NOT_FOUND',
      `${stackDir} is not a stack: it has no stack.yaml or kcl.yaml`,
      {
        hint: 'Give the directory of one stack, e.g. appops/guestbook/dev.',
      },
    );
  }
  const settings = readCompileSettings(kclYaml, join(dir, 'ci-test', 'settings.yaml'), root);
  // Without a file list, the stack's own `.k` files are its program.
  if (settings.files.length === 0) settings.files.push('.');
  const projectDir = findProjectDir(dir, root);
  return {
    root,
    dir,
    path: relative(root, dir).split(sep).join('/'),
    name: declaredName(join(dir, 'stack.yaml')),
    project: { name: declaredName(join(projectDir, 'project.yaml')), dir: projectDir },
    settings,
  };
}
