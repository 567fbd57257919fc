/**
 * Opens an image source named in skopeo's transport syntax: `oci:PATH[:TAG]`,
 * `docker-archive:PATH[:NAME:TAG]`, `docker://REFERENCE`, or a bare registry reference.
 * Like skopeo, the path ends at the first colon.
 */
import type { ImageSource } from './image-source.ts';
import { DockerArchiveSource } from './docker-archive-source.ts';
import { OciLayoutSource } from './oci-layout-source.ts';
import { parseReference } from './reference.ts';
import { createRegistryClient, type RegistryClientOptions } from './registry-client.ts';
import { RegistrySource } from './registry-source.ts';
import { KdeliverError } from '../../errors.ts';

/** Settings for the registry a reference names (CA, insecure, credentials…), by host[:port]. */
export type RegistrySettings = (registry: string) => Omit<RegistryClientOptions, 'registry'>;

function splitPath(rest: string): [string, string | undefined] {
  const colon = rest.indexOf(':');
  return colon === -1 ? [rest, undefined] : [rest.slice(0, colon), rest.slice(colon + 1) || undefined];
}

export async function openImageSource(
  name: string,
  registries: RegistrySettings = () => ({}),
): Promise<ImageSource> {
  for (const [prefix, open] of [
    ['oci:', (path: string, reference?: string) => new OciLayoutSource(path, reference)],
    ['docker-archive:', (path: string, reference?: string) => new DockerArchiveSource(path, reference)],
  ] as const) {
    if (!name.startsWith(prefix)) continue;
    const [path, reference] = splitPath(name.slice(prefix.length));
    if (path === '')
      throw new KdeliverError('usage', 'IMAGE_SOURCE_INVALID', `Image source "${name}" names no path.`, {
        hint: `Write ${prefix}PATH${prefix === 'oci:' ? '[:TAG]' : '[:NAME:TAG]'}.`,
      });
    return open(path, reference);
  }
  const reference = parseReference(name.startsWith('docker://') ? name.slice('docker://'.length) : name);
  const client = await createRegistryClient({
    ...registries(reference.registry),
    registry: reference.registry,
  });
  return new RegistrySource(client, reference);
}
