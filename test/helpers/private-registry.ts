/**
 * A site registry of a test's own (TLS, basic auth), started by the same code as the
 * sandbox's, so that a test may stop and restart it without disturbing the shared one.
 * It trusts the sandbox's CA and serves the sandbox's loopback certificate.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { httpStatus, waitUntil } from '../../src/sandbox/probe.ts';
import { isRunning, startDaemon, stopDaemon, type TrackedProcess } from '../../src/sandbox/processes.ts';
import { startRegistry, type RegistryEndpoint } from '../../src/sandbox/registry.ts';
import { ensureDebianTool } from '../../src/util/debian.ts';

export class PrivateRegistry {
  readonly endpoint: RegistryEndpoint;
  /** Holds the registry's config, htpasswd, storage (data/) and log. */
  readonly dir: string;
  #process: TrackedProcess;

  private constructor(endpoint: RegistryEndpoint, dir: string, process_: TrackedProcess) {
    this.endpoint = endpoint;
    this.dir = dir;
    this.#process = process_;
  }

  /** Starts a registry in `dir` with the sandbox's server certificate (its names include 127.0.0.1). */
  static async start(sandboxDir: string, dir: string): Promise<PrivateRegistry> {
    const binary = await ensureDebianTool('docker-registry', 'docker-registry', 'the integration tests');
    const started = await startRegistry({
      binary,
      name: 'private-registry',
      dir,
      logFile: join(dir, 'registry.log'),
      tls: {
        cert: join(sandboxDir, 'pki', 'server.crt'),
        key: join(sandboxDir, 'pki', 'server.key'),
        ca: join(sandboxDir, 'registry-ca', 'ca.crt'),
      },
      auth: true,
    });
    return new PrivateRegistry(started.endpoint, dir, started.process);
  }

  get pid(): number {
    return this.#process.pid;
  }

  get running(): boolean {
    return isRunning(this.#process);
  }

  /** Kills the registry at once (no graceful shutdown) and waits until it is gone. */
  async kill(): Promise<void> {
    if (!isRunning(this.#process)) return;
    process.kill(this.#process.pid, 'SIGKILL');
    await stopDaemon(this.#process, 0);
  }

  /** Starts the registry again with the same config: same port, storage and password. */
  async restart(): Promise<void> {
    this.#process = startDaemon(
      'private-registry',
      this.#process.binary,
      ['serve', join(this.dir, 'config.yml')],
      this.#process.log,
    );
    await waitUntil(
      'private-registry',
      async () => (await httpStatus(`https://${this.endpoint.host}/v2/`, { ca: this.endpoint.ca })) === 401,
      { timeoutMs: 30_000, process: this.#process },
    );
  }

  async stop(): Promise<void> {
    await stopDaemon(this.#process);
  }

  /** Digests of the blobs the registry has committed (whatever repository they belong to). */
  async committedBlobs(): Promise<Set<string>> {
    const root = join(this.dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256');
    const digests = new Set<string>();
    for (const prefix of await readdir(root).catch(() => []))
      for (const hex of await readdir(join(root, prefix)).catch(() => []))
        if (await exists(join(root, prefix, hex, 'data'))) digests.add(`sha256:${hex}`);
    return digests;
  }

  /** Bytes the registry holds of uploads in progress, over all repositories below `repositoryRoot`. */
  async uploadingBytes(repositoryRoot: string): Promise<number> {
    const root = join(this.dir, 'data', 'docker', 'registry', 'v2', 'repositories', repositoryRoot);
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = join(dir, entry.name);
        if (!entry.isDirectory()) continue;
        if (entry.name === '_uploads') {
          for (const upload of await readdir(path).catch(() => []))
            total += await stat(join(path, upload, 'data')).then(
              (info) => info.size,
              () => 0,
            );
        } else if (!entry.name.startsWith('_')) await walk(path);
      }
    };
    await walk(root);
    return total;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
