/**
 * `kdeliver init`: a working Konfig repository with the kdeliver application model, one
 * project with dev and prod stacks, and their golden specs.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KONFIG_SCAFFOLD } from '../../../templates/index.ts';
import { KdeliverError } from '../../errors.ts';

/** The stacks of the scaffold, relative to its root. */
export const SCAFFOLD_STACKS = Object.keys(KONFIG_SCAFFOLD)
  .filter((path) => path.endsWith('/stack.yaml'))
  .map((path) => dirname(path));

/** Writes the scaffold into `dir`, which must be missing or empty; returns the files written. */
export function writeScaffold(dir: string): string[] {
  const root = resolve(dir);
  if (existsSync(root) && readdirSync(root).length > 0) {
    throw new KdeliverError('input', 'INIT_DIR_NOT_EMPTY', `${dir} already exists and is not empty`, {
      hint: 'Give a new directory (or an empty one) to create the Konfig repository in.',
    });
  }
  const written: string[] = [];
  for (const [path, text] of Object.entries(KONFIG_SCAFFOLD)) {
    const file = join(root, ...path.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    written.push(path);
  }
  return written;
}
