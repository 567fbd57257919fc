/**
 * Image references in the form `[registry[:port]/]repository[:tag][@sha256:hex]`, with
 * Docker Hub's defaults: no registry means docker.io, and a one-part repository there
 * lives under `library/`.
 */
import { KdeliverError } from '../../errors.ts';
import { isDigest } from './digest.ts';

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's API answers on another host than the one in references. */
const DOCKER_HUB_API = 'registry-1.docker.io';

export interface ImageReference {
  /** host[:port] as written in references (docker.io for Docker Hub). */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

// The grammar of the distribution reference specification, without its length limits.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

function invalid(text: string, why: string): KdeliverError {
  return new KdeliverError(
    'input',
    'IMAGE_REFERENCE_INVALID',
    `Image reference "${text}" is invalid: ${why}.`,
    {
      hint: 'Write references as [registry[:port]/]repository[:tag][@sha256:<64 hex digits>], e.g. registry.example.com:5000/team/app:1.2.0.',
    },
  );
}

/** The first path part names a registry when it looks like a host: a dot, a port or localhost. */
function looksLikeRegistry(part: string): boolean {
  return part.includes('.') || part.includes(':') || part === 'localhost' || part !== part.toLowerCase();
}

export function parseReference(text: string): ImageReference {
  if (text.trim() !== text || text === '') throw invalid(text, 'it is empty or has surrounding spaces');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw invalid(text, `"${digest}" is not a sha256 digest`);
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  if (slash !== -1 && looksLikeRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    if (!HOST.test(registry)) throw invalid(text, `"${registry}" is not a valid registry host[:port]`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(text, `"${tag}" is not a valid tag`);
  }
  if (rest === '') throw invalid(text, 'the repository name is missing');
  const components = rest.split('/');
  for (const component of components) {
    if (!COMPONENT.test(component))
      throw invalid(
        text,
        `repository path part "${component}" must be lowercase letters and digits separated by ".", "_", "__" or "-"`,
      );
  }
  if (registry === DOCKER_HUB && components.length === 1) rest = `library/${rest}`;
  return {
    registry: normalizeRegistry(registry),
    repository: rest,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** Docker Hub has several names; references use docker.io. */
export function normalizeRegistry(registry: string): string {
  return ['index.docker.io', DOCKER_HUB_API].includes(registry) ? DOCKER_HUB : registry;
}

/** The host[:port] that serves the registry API. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** What a manifest request names: the digest when pinned, else the tag, else `latest`. */
export function manifestReference(reference: ImageReference): string {
  return reference.digest ?? reference.tag ?? 'latest';
}

export function formatReference(reference: ImageReference): string {
  const name = `${reference.registry}/${reference.repository}`;
  return `${name}${reference.tag ? `:${reference.tag}` : ''}${reference.digest ? `@${reference.digest}` : ''}`;
}
