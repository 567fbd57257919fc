/** The `file` system module. Relative paths resolve against the run's work directory. */
import {
  cpSync,
  existsSync,
  globSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { KclList, KclRuntimeError, type KclModule, type KclValue } from '../values.ts';
import type { ModuleContext } from './context.ts';
import { defineModule } from './define.ts';

function attempt<T>(what: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new KclRuntimeError(`failed to ${what} '${path}': ${(error as Error).message}`);
  }
}

export function fileModule(ctx: ModuleContext): KclModule {
  const at = (path: string) => resolve(ctx.workdir, path);
  return defineModule('file', {
    read: (a) => {
      const path = a.str(0, 'filepath');
      return attempt('read', path, () => readFileSync(at(path), 'utf8'));
    },
    write: (a) => {
      const path = a.str(0, 'filepath');
      attempt('write', path, () => writeFileSync(at(path), a.str(1, 'content')));
      return null;
    },
    glob: (a) =>
      new KclList(
        globSync(a.str(0, 'pattern'), { cwd: ctx.workdir })
          .sort()
          .map((p): KclValue => p),
      ),
    modpath: () => ctx.modRoot,
    workdir: () => ctx.workdir,
    current: () => ctx.currentFile,
    exists: (a) => existsSync(at(a.str(0, 'filepath'))),
    abs: (a) => at(a.str(0, 'filepath')),
    size: (a) => {
      const path = a.str(0, 'filepath');
      return BigInt(attempt('stat', path, () => statSync(at(path)).size));
    },
    mkdir: (a) => {
      const path = a.str(0, 'directory');
      attempt('create directory', path, () => mkdirSync(at(path), { recursive: a.bool(1, 'exists', false) }));
      return null;
    },
    delete: (a) => {
      const path = a.str(0, 'filepath');
      attempt('delete', path, () => rmSync(at(path), { recursive: true }));
      return null;
    },
    cp: (a) => {
      const src = a.str(0, 'src');
      attempt('copy', src, () => cpSync(at(src), at(a.str(1, 'dest')), { recursive: true }));
      return null;
    },
    mv: (a) => {
      const src = a.str(0, 'src');
      attempt('move', src, () => renameSync(at(src), at(a.str(1, 'dest'))));
      return null;
    },
    read_env: (a) => process.env[a.str(0, 'key')] ?? null,
  });
}
