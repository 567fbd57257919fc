import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Writes a tree of files under a fresh temporary directory and returns the directory. */
export function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kdeliver-konfig-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
