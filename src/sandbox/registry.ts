import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { freePort, httpStatus, waitUntil } from './probe.ts';
import { startDaemon, type TrackedProcess } from './processes.ts';

export interface RegistryEndpoint {
  /** host:port on loopback */
  host: string;
  ca: string;
  user?: string;
  password?: string;
}

export interface StartRegistryOptions {
  binary: string;
  name: string;
  /** Holds the registry's config, htpasswd and storage. */
  dir: string;
  logFile: string;
  tls: { cert: string; key: string; ca: string };
  /** With credentials the registry demands basic auth (htpasswd, bcrypt). */
  auth: boolean;
  /** Told of the daemon as soon as it is started, before it is ready. */
  track?: (process: TrackedProcess) => void;
}

export async function startRegistry(
  options: StartRegistryOptions,
): Promise<{ endpoint: RegistryEndpoint; process: TrackedProcess }> {
  const dir = options.dir;
  await mkdir(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: {
      addr: `127.0.0.1:${port}`,
      tls: { certificate: options.tls.cert, key: options.tls.key },
      // Upload state tokens are signed with this; without it a restarted registry forgets uploads in progress.
      secret: randomBytes(24).toString('base64url'),
    },
  };
  const endpoint: RegistryEndpoint = { host: `127.0.0.1:${port}`, ca: options.tls.ca };
  if (options.auth) {
    endpoint.user = 'kdeliver';
    endpoint.password = randomBytes(18).toString('base64url');
    const htpasswd = join(dir, 'htpasswd');
    // Cost 5 is what `htpasswd -B` writes, as the registry's deployment guide makes the file.
    await writeFile(htpasswd, `${endpoint.user}:${bcrypt.hashSync(endpoint.password, 5)}\n`, {
      mode: 0o600,
    });
    config.auth = { htpasswd: { realm: 'kdeliver-sandbox', path: htpasswd } };
  }
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, stringify(config), { mode: 0o600 });
  const daemon = startDaemon(options.name, options.binary, ['serve', configFile], options.logFile);
  options.track?.(daemon);
  const expected = options.auth ? 401 : 200;
  await waitUntil(
    options.name,
    async () => (await httpStatus(`https://${endpoint.host}/v2/`, { ca: endpoint.ca })) === expected,
    {
      timeoutMs: 30_000,
      process: daemon,
    },
  );
  return { endpoint, process: daemon };
}
