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

/** The C library's text for the errors file operations commonly meet, as KCL reports them. */
const OS_ERRORS: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ENOTEMPTY: 'Directory not empty',
};

/** `failure` followed by the OS error, e.g. `No such file or directory (os error 2)`. */
function attempt<T>(failure: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const { code, errno, message } = error as NodeJS.ErrnoException;
    const text = code && OS_ERRORS[code];
    const reason = text && errno !== undefined ? `${text} (os error ${-errno})` : message;
    throw new KclRuntimeError(`${failure}: ${reason}`);
  }
}

export function fileModule(ctx: ModuleContext): KclModule {
  const at = (path: string) => resolve(ctx.workdir, path);
  return defineModule('file', {
    read: (a) => {
      const path = a.str(0, 'filepath');
      return attempt(`failed to access the file '${path}'`, () => readFileSync(at(path), 'utf8'));
    },
    write: (a) => {
      const path = a.str(0, 'filepath');
      attempt(`failed to write '${path}'`, () => writeFileSync(at(path), a.str(1, 'content')));
      return null;
    },
    glob: (a) =>
      new KclList(
        globSync(a.str(0, 'pattern'), { cwd: ctx.workdir })
          .sort()
          .map((p): KclValue => p),
      ),
    modpath: () => ctx.modRoot,
    // The official CLI runs without a work directory option, so it reports none.
    workdir: () => '',
    current: () => ctx.currentFile,
    exists: (a) => existsSync(at(a.str(0, 'filepath'))),
    abs: (a) => at(a.str(0, 'filepath')),
    size: (a) => {
      const path = a.str(0, 'filepath');
      return BigInt(attempt(`failed to get size of '${path}'`, () => statSync(at(path)).size));
    },
    mkdir: (a) => {
      const path = a.str(0, 'directory');
      // An existing directory is left as it is; `exists` allows missing parents.
      const recursive = a.bool(1, 'exists', false);
      if (!existsSync(at(path)))
        attempt(`failed to create directory '${path}'`, () => mkdirSync(at(path), { recursive }));
      return null;
    },
    delete: (a) => {
      const path = a.str(0, 'filepath');
      attempt(`failed to delete '${path}'`, () => rmSync(at(path), { recursive: true }));
      return null;
    },
    cp: (a) => {
      const [src, dest] = [a.str(0, 'src'), a.str(1, 'dest')];
      attempt(`Failed to copy from '${src}' to '${dest}'`, () =>
        cpSync(at(src), at(dest), { recursive: true }),
      );
      return null;
    },
    mv: (a) => {
      const [src, dest] = [a.str(0, 'src'), a.str(1, 'dest')];
      attempt(`failed to move '${src}' to '${dest}'`, () => renameSync(at(src), at(dest)));
      return null;
    },
    read_env: (a) => process.env[a.str(0, 'key')] ?? null,
  });
}
