/**
 * How `build` reaches the registries its images come from: which CA to trust, which
 * hosts speak plain HTTP, and whose credentials to present.
 */
import { KdeliverError } from '../errors.ts';
import type { Credentials } from './oci/docker-config.ts';
import { defaultDockerConfigPath } from './oci/docker-config.ts';
import type { RegistrySettings } from './oci/open-source.ts';
import { parseReference } from './oci/reference.ts';

export interface SourceRegistryOptions {
  /** A CA file or directory trusted for every source registry, besides the system roots. */
  ca?: string;
  /** host[:port] of registries reached over plain HTTP. */
  insecure?: readonly string[];
  /** Given on the command line; sent only when all images come from one registry. */
  credentials?: Credentials;
}

/**
 * Settings per registry. Without --registry-ca, the CA named for the sandbox's (or the
 * site's) registry in the environment (`kdeliver sandbox env`) is trusted for that host.
 * Credentials from the command line are refused when the images come from several
 * registries, since they would be offered to all of them; a Docker config.json names
 * credentials per registry instead.
 */
export function sourceRegistrySettings(
  references: readonly string[],
  options: SourceRegistryOptions,
  env: NodeJS.ProcessEnv = process.env,
): RegistrySettings {
  const registries = new Set(references.map((reference) => parseReference(reference).registry));
  if (options.credentials && registries.size > 1)
    throw new KdeliverError(
      'usage',
      'SOURCE_CREDENTIALS_AMBIGUOUS',
      `--source-registry-user applies to one registry, but the images come from ${[...registries].sort().join(', ')}`,
      {
        hint: 'Put credentials per registry in a Docker config.json (docker login, or $DOCKER_CONFIG) instead.',
      },
    );
  const caFromEnv = new Map<string, string>();
  for (const [host, ca] of [
    [env.KDELIVER_REGISTRY, env.KDELIVER_REGISTRY_CA],
    [env.KDELIVER_SOURCE_REGISTRY, env.KDELIVER_SOURCE_REGISTRY_CA],
  ])
    if (host && ca) caFromEnv.set(host, ca);
  const dockerConfigPath = defaultDockerConfigPath(env);
  return (registry) => {
    const ca = options.ca ?? caFromEnv.get(registry);
    return {
      dockerConfigPath,
      ...(ca ? { ca } : {}),
      ...(options.insecure?.includes(registry) ? { insecure: true } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    };
  };
}
