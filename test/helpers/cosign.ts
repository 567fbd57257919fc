/**
 * cosign, the Sigstore CLI, as an independent checker of package signatures. It is built
 * from Go modules once per version into the kdeliver cache (as the sandbox builds its
 * control plane), so warm runs find the binary and build nothing.
 */
import { access, constants, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot } from '../../src/sandbox/paths.ts';
import { runCommand } from '../../src/util/exec.ts';

/** The newest cosign v2 the Go module proxy serves. */
export const COSIGN_VERSION = 'v2.6.5';

const COSIGN_MODULE = 'github.com/sigstore/cosign/v2/cmd/cosign';

export function cosignPath(): string {
  return join(cacheRoot(), 'tools', `cosign-${COSIGN_VERSION}`, 'cosign');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The cosign binary, built with `go install` when the cache lacks it. The build goes to a
 * directory of its own that is renamed into place, so an interrupted build leaves no binary.
 */
export async function ensureCosign(): Promise<string> {
  const binary = cosignPath();
  if (await exists(binary)) return binary;
  const dir = join(binary, '..');
  const building = `${dir}.tmp-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  try {
    await runCommand('go', ['install', '-trimpath', '-ldflags=-s -w', `${COSIGN_MODULE}@${COSIGN_VERSION}`], {
      env: { ...process.env, GOBIN: building, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    });
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return binary;
}
