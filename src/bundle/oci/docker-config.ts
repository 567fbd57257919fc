/**
 * Registry credentials from a Docker `config.json`: `auths` entries holding `auth`
 * (base64 of user:password) or `username` and `password`. Credential helpers
 * (`credsStore`, `credHelpers`) run external programs and are not supported; a lookup
 * that would need one reports it so the error can say so.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KdeliverError, messageOf } from '../../errors.ts';
import { DOCKER_HUB } from './reference.ts';

export interface Credentials {
  username: string;
  password: string;
}

export type CredentialLookup =
  | { kind: 'found'; credentials: Credentials; from: string }
  | { kind: 'helper'; helper: string; from: string }
  | { kind: 'none' };

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/** Keys may be written as a host, a URL, or Docker Hub's legacy index URL. */
function registryOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return ['index.docker.io', 'registry-1.docker.io'].includes(host) ? DOCKER_HUB : host;
}

function credentialsOf(entry: AuthEntry, where: string): Credentials | undefined {
  if (entry.username !== undefined && entry.password !== undefined)
    return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1)
      throw new KdeliverError(
        'input',
        'DOCKER_CONFIG_INVALID',
        `The "auth" value for ${where} is not base64 of user:password.`,
        {
          hint: 'Run `docker login` again or fix the entry by hand.',
        },
      );
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

/** Credentials for a registry (host[:port], docker.io for Docker Hub) from a config.json. */
export async function lookupDockerCredentials(
  registry: string,
  configPath: string,
): Promise<CredentialLookup> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw new KdeliverError(
      'input',
      'DOCKER_CONFIG_UNREADABLE',
      `Cannot read ${configPath}: ${messageOf(error)}.`,
      {
        cause: error,
      },
    );
  }
  let config: DockerConfig;
  try {
    config = JSON.parse(text) as DockerConfig;
  } catch (error) {
    throw new KdeliverError(
      'input',
      'DOCKER_CONFIG_INVALID',
      `${configPath} is not valid JSON: ${messageOf(error)}.`,
      {
        hint: 'Fix or remove the file.',
        cause: error,
      },
    );
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (registryOfKey(key) !== registry) continue;
    const credentials = credentialsOf(entry, `${key} in ${configPath}`);
    if (credentials) return { kind: 'found', credentials, from: configPath };
  }
  const helper =
    Object.entries(config.credHelpers ?? {}).find(([key]) => registryOfKey(key) === registry)?.[1] ??
    config.credsStore;
  if (helper) return { kind: 'helper', helper, from: configPath };
  return { kind: 'none' };
}
