import { Flags } from '@oclif/core';
import type { Credentials } from '../bundle/oci/docker-config.ts';
import { KdeliverError } from '../errors.ts';
import { passphraseFromEnv } from './passphrase.ts';

/** The site registry images are pushed to; defaults from `kdeliver sandbox env` variables. */
export const siteRegistryFlags = {
  registry: Flags.string({
    description: 'Site registry host[:port] to push the images to.',
    env: 'KDELIVER_REGISTRY',
  }),
  'registry-ca': Flags.string({
    description: 'CA certificate file or directory trusted for the site registry.',
    env: 'KDELIVER_REGISTRY_CA',
  }),
  'registry-user': Flags.string({
    description: 'User for the site registry; without one, the Docker config.json is used.',
    env: 'KDELIVER_REGISTRY_USER',
  }),
  'registry-password-env': Flags.string({
    description:
      'Environment variable holding the site registry password; else KDELIVER_REGISTRY_PASSWORD, else asked for on a terminal.',
    dependsOn: ['registry-user'],
  }),
};

/** The site registry's credentials from those flags: none without a user; the password never from argv. */
export async function siteRegistryCredentials(flags: {
  'registry-user'?: string;
  'registry-password-env'?: string;
}): Promise<Credentials | undefined> {
  const username = flags['registry-user'];
  if (username === undefined) return undefined;
  const envName = flags['registry-password-env'];
  if (envName !== undefined) return { username, password: passphraseFromEnv(envName) };
  const fromEnv = process.env.KDELIVER_REGISTRY_PASSWORD;
  if (fromEnv) return { username, password: fromEnv };
  if (!process.stdin.isTTY)
    throw new KdeliverError(
      'usage',
      'REGISTRY_PASSWORD_REQUIRED',
      `no password for registry user ${username}`,
      {
        hint: 'Set KDELIVER_REGISTRY_PASSWORD, or pass --registry-password-env VAR.',
      },
    );
  const { password } = await import('@inquirer/prompts');
  return {
    username,
    password: await password({ message: `Password of registry user ${username}`, mask: true }),
  };
}

export function requireRegistry(registry: string | undefined): string {
  if (registry === undefined)
    throw new KdeliverError('usage', 'REGISTRY_REQUIRED', 'no site registry to push the images to', {
      hint: 'Pass --registry HOST[:PORT] or set KDELIVER_REGISTRY.',
    });
  return registry;
}
