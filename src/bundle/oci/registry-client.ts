/**
 * A client for one registry over the OCI distribution API: manifests, blobs (streamed
 * and verified while they flow), streamed uploads that resume after a dropped
 * connection, cross-repository mounts, and tag lists. Authentication is in
 * auth.ts, retries in retry.ts, the HTTP plumbing in transport.ts.
 */
import { pipeline, type Readable } from 'node:stream';
import { KdeliverError, messageOf } from '../../errors.ts';
import type { AuthSettings } from './auth.ts';
import { RegistryAuth } from './auth.ts';
import { CheckedContent, DigestVerifier, sha256Digest, verifyBytes, type BlobOpener } from './digest.ts';
import type { Credentials } from './docker-config.ts';
import {
  isImageManifestMediaType,
  isIndexMediaType,
  MANIFEST_ACCEPT,
  type Descriptor,
} from './media-types.ts';
import { apiHost } from './reference.ts';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  RetryableError,
  withRetry,
  type RetryPolicy,
} from './retry.ts';
import {
  ConnectionError,
  drain,
  header,
  HttpTransport,
  isTlsFailure,
  loadCaCertificates,
  readBody,
  type HttpResponse,
  type RequestBody,
} from './transport.ts';

export interface RegistryClientOptions {
  /** host[:port] as written in references; docker.io for Docker Hub. */
  registry: string;
  /** A CA certificate file, or a directory of *.crt files, trusted besides the system roots. */
  ca?: string;
  /** Speak plain HTTP. Only for registries the user marked insecure. */
  insecure?: boolean;
  credentials?: Credentials;
  /** A Docker config.json to take credentials from when none are given. */
  dockerConfigPath?: string;
  retry?: Partial<RetryPolicy>;
  /** Blobs up to this size are read into memory and sent in one request; larger ones are streamed. */
  smallBlobSize?: number;
}

/** Bytes transferred so far for one blob; never decreases. */
export type Progress = (bytes: number) => void;

export interface Manifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

const SMALL_BLOB_SIZE = 8 * 1024 * 1024;
/** Manifests larger than this are refused, as the distribution specification allows. */
const MANIFEST_LIMIT = 4 * 1024 * 1024;
const ERROR_BODY_LIMIT = 64 * 1024;
const MAX_REDIRECTS = 5;

interface ApiRequest {
  method: string;
  /** A path below the registry's base URL, or an absolute URL (upload locations). */
  target: string | URL;
  scopes: string[];
  /** Statuses the caller handles; any other is an error. */
  accept: number[];
  /** What the request is about, for messages: repository and reference. */
  what: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  onBodyProgress?: (written: number) => void;
  followRedirects?: boolean;
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** Progress that ignores reports below what was already reported (a resumed upload restarts lower). */
function monotonic(progress: Progress | undefined): Progress {
  let reported = -1;
  return (bytes) => {
    if (bytes <= reported) return;
    reported = bytes;
    progress?.(bytes);
  };
}

export async function createRegistryClient(options: RegistryClientOptions): Promise<RegistryClient> {
  const ca = options.ca ? await loadCaCertificates(options.ca) : [];
  return new RegistryClient(options, new HttpTransport(ca));
}

export class RegistryClient {
  readonly registry: string;
  readonly #base: URL;
  readonly #transport: HttpTransport;
  readonly #auth: RegistryAuth;
  readonly #retry: RetryPolicy;
  readonly #smallBlobSize: number;

  constructor(options: RegistryClientOptions, transport: HttpTransport) {
    this.registry = options.registry;
    this.#base = new URL(`${options.insecure ? 'http' : 'https'}://${apiHost(options.registry)}/`);
    this.#transport = transport;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#smallBlobSize = options.smallBlobSize ?? SMALL_BLOB_SIZE;
    const auth: AuthSettings = { registry: options.registry };
    if (options.credentials) auth.credentials = options.credentials;
    if (options.dockerConfigPath) auth.dockerConfigPath = options.dockerConfigPath;
    this.#auth = new RegistryAuth(auth, (request) =>
      withRetry(() => this.#sendOnce(request.method, request.url, request.headers ?? {}), this.#retry),
    );
  }

  close(): void {
    this.#transport.close();
  }

  /** Checks that the registry answers the distribution API and accepts our credentials. */
  async ping(): Promise<void> {
    await drain(
      await this.#request({
        method: 'GET',
        target: 'v2/',
        scopes: [],
        accept: [200],
        what: 'the API root /v2/',
      }),
    );
  }

  async headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    const response = await this.#request({
      method: 'HEAD',
      target: `v2/${repository}/manifests/${reference}`,
      scopes: [pullScope(repository)],
      accept: [200, 404],
      what: this.#manifestName(repository, reference),
      headers: { Accept: MANIFEST_ACCEPT },
    });
    await drain(response);
    if (response.status === 404) return undefined;
    const digest = header(response.headers, 'docker-content-digest');
    const size = Number(header(response.headers, 'content-length'));
    const mediaType = header(response.headers, 'content-type')?.split(';')[0]?.trim();
    if (!digest || !mediaType || !Number.isSafeInteger(size))
      return this.getManifest(repository, reference).then((m) => m.descriptor);
    return { mediaType, digest, size };
  }

  /** Fetches a manifest or index; when `reference` is a digest the content is checked against it. */
  async getManifest(repository: string, reference: string): Promise<Manifest> {
    const what = this.#manifestName(repository, reference);
    const response = await this.#request({
      method: 'GET',
      target: `v2/${repository}/manifests/${reference}`,
      scopes: [pullScope(repository)],
      accept: [200],
      what,
      headers: { Accept: MANIFEST_ACCEPT },
    });
    const bytes = await readBody(response, MANIFEST_LIMIT);
    const digest = sha256Digest(bytes);
    const claimed = reference.startsWith('sha256:')
      ? reference
      : header(response.headers, 'docker-content-digest');
    if (claimed?.startsWith('sha256:')) verifyBytes(bytes, { digest: claimed, size: bytes.length }, what);
    const mediaType = manifestMediaType(bytes, header(response.headers, 'content-type'), what);
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes };
  }

  /** Stores a manifest under a tag or its digest; returns its digest. */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    const digest = sha256Digest(bytes);
    const what = this.#manifestName(repository, reference);
    const response = await this.#request({
      method: 'PUT',
      target: `v2/${repository}/manifests/${reference}`,
      scopes: [pushScope(repository)],
      accept: [201],
      what,
      headers: { 'Content-Type': mediaType },
      body: bytes,
    });
    await drain(response);
    const stored = header(response.headers, 'docker-content-digest');
    if (stored && stored !== digest)
      throw new KdeliverError(
        'verification',
        'MANIFEST_DIGEST_MISMATCH',
        `Registry ${this.registry} stored ${what} as ${stored}, not ${digest}.`,
        {
          hint: 'The registry changed the manifest on upload; use a registry that stores manifests unchanged.',
        },
      );
    return digest;
  }

  /**
   * Deletes a manifest by digest (tags pointing at it go with it; the registry's garbage
   * collection frees the blobs). A manifest already gone is fine.
   */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    const what = this.#manifestName(repository, digest);
    const response = await this.#request({
      method: 'DELETE',
      target: `v2/${repository}/manifests/${digest}`,
      scopes: [`repository:${repository}:delete`],
      accept: [202, 404, 405],
      what,
    });
    await drain(response);
    if (response.status === 405)
      throw new KdeliverError(
        'operation',
        'REGISTRY_DELETE_DISABLED',
        `Registry ${this.registry} does not delete manifests (${what}).`,
        {
          hint: 'Enable deletes in the registry (docker-registry: storage.delete.enabled: true), or remove the images with its own tools.',
        },
      );
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const response = await this.#request({
      method: 'HEAD',
      target: `v2/${repository}/blobs/${digest}`,
      scopes: [pullScope(repository)],
      accept: [200, 404],
      what: `blob ${this.registry}/${repository}@${digest}`,
      followRedirects: true,
    });
    await drain(response);
    return response.status === 200;
  }

  /**
   * Streams a blob; the stream errors (with a verification error) instead of ending
   * when the bytes do not match the descriptor. A connection lost mid-stream is not
   * retried here; the consumer sees the error.
   */
  async openBlob(repository: string, descriptor: Descriptor, progress?: Progress): Promise<Readable> {
    const what = `blob ${this.registry}/${repository}@${descriptor.digest}`;
    const response = await this.#request({
      method: 'GET',
      target: `v2/${repository}/blobs/${descriptor.digest}`,
      scopes: [pullScope(repository)],
      accept: [200],
      what,
      followRedirects: true,
    });
    const verifier = new DigestVerifier(descriptor, what, monotonic(progress));
    return pipeline(response.body, verifier, () => {});
  }

  /**
   * Uploads a blob, checking its digest and size on the way. Small blobs (up to
   * `smallBlobSize`) are read into memory and go up in one PUT; larger ones stream in the
   * PUT that finishes the upload (one request fewer than PATCH + PUT: registries check
   * credentials on every request). A transfer cut off midway is resumed from the offset the
   * registry reports, by opening the content again there; an upload the registry lost is
   * started again, and one it committed before its answer was lost is done.
   */
  async pushBlob(
    repository: string,
    open: BlobOpener,
    descriptor: Descriptor,
    progress?: Progress,
  ): Promise<void> {
    const what = `blob ${this.registry}/${repository}@${descriptor.digest}`;
    const report = monotonic(progress);
    const content = new CheckedContent(open, descriptor, `the stream for ${what}`);
    if (descriptor.size <= this.#smallBlobSize) {
      const parts: Buffer[] = [];
      for await (const chunk of content.from(0)) parts.push(chunk);
      const body = Buffer.concat(parts);
      await withRetry(async () => {
        const location = await this.#startUpload(repository, what);
        await this.#finishUpload(repository, location, descriptor.digest, what, body, report);
      }, this.#retry);
      return;
    }
    let location = await withRetry(() => this.#startUpload(repository, what), this.#retry);
    let offset = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        if (offset === 0) {
          const body = { stream: content.from(0), length: descriptor.size };
          await this.#finishUpload(repository, location, descriptor.digest, what, body, report);
          return;
        }
        if (offset < descriptor.size)
          location = await this.#patch(
            repository,
            location,
            content.from(offset),
            offset,
            descriptor,
            what,
            report,
          );
        content.verify();
        await this.#finishUpload(repository, location, descriptor.digest, what, undefined, report);
        return;
      } catch (error) {
        if (!(error instanceof RetryableError) || attempt + 1 >= this.#retry.attempts) {
          await this.#cancelUpload(repository, location);
          throw error instanceof RetryableError ? error.final : error;
        }
        await this.#retry.sleep(backoffDelay(attempt, this.#retry, error.retryAfterMs));
        const status = await this.#uploadStatus(repository, location, what);
        if (status) {
          ({ location, received: offset } = status);
        } else if (await this.hasBlob(repository, descriptor.digest)) {
          return;
        } else {
          location = await withRetry(() => this.#startUpload(repository, what), this.#retry);
          offset = 0;
        }
      }
    }
  }

  /**
   * Asks the registry to link a blob from another repository of the same registry.
   * False when it would not (it then opens an upload, which is cancelled here).
   */
  async mountBlob(repository: string, descriptor: Descriptor, fromRepository: string): Promise<boolean> {
    const what = `blob ${this.registry}/${repository}@${descriptor.digest} (mounted from ${fromRepository})`;
    const query = new URLSearchParams({ mount: descriptor.digest, from: fromRepository });
    const response = await this.#request({
      method: 'POST',
      target: `v2/${repository}/blobs/uploads/?${query}`,
      scopes: [pushScope(repository), pullScope(fromRepository)],
      accept: [201, 202],
      what,
    });
    await drain(response);
    if (response.status === 201) return true;
    const location = header(response.headers, 'location');
    if (location) await this.#cancelUpload(repository, new URL(location, this.#base));
    return false;
  }

  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let target: string | URL = `v2/${repository}/tags/list`;
    for (;;) {
      const response = await this.#request({
        method: 'GET',
        target,
        scopes: [pullScope(repository)],
        accept: [200],
        what: `the tags of ${this.registry}/${repository}`,
      });
      const body = JSON.parse((await readBody(response, MANIFEST_LIMIT)).toString('utf8')) as {
        tags?: string[] | null;
      };
      tags.push(...(body.tags ?? []));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(response.headers, 'link') ?? '')?.[1];
      if (!next) return tags;
      target = new URL(next, this.#base);
    }
  }

  async #startUpload(repository: string, what: string): Promise<URL> {
    const response = await this.#attempt({
      method: 'POST',
      target: `v2/${repository}/blobs/uploads/`,
      scopes: [pushScope(repository)],
      accept: [202],
      what,
    });
    await drain(response);
    return this.#location(response, what);
  }

  async #finishUpload(
    repository: string,
    location: URL,
    digest: string,
    what: string,
    body: RequestBody | undefined,
    report: Progress,
  ): Promise<void> {
    const target = new URL(location);
    target.searchParams.set('digest', digest);
    const response = await this.#attempt({
      method: 'PUT',
      target,
      scopes: [pushScope(repository)],
      accept: [201],
      what,
      headers: { 'Content-Type': 'application/octet-stream' },
      ...(body ? { body, onBodyProgress: report } : {}),
    });
    await drain(response);
    if (body?.length === 0) report(0);
  }

  /** Sends the rest of a blob, from `offset`, in one PATCH; returns where the upload continues. */
  async #patch(
    repository: string,
    location: URL,
    rest: AsyncIterable<Buffer>,
    offset: number,
    descriptor: Descriptor,
    what: string,
    report: Progress,
  ): Promise<URL> {
    const response = await this.#attempt({
      method: 'PATCH',
      target: location,
      scopes: [pushScope(repository)],
      accept: [202, 416],
      what,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${offset}-${descriptor.size - 1}`,
      },
      body: { stream: rest, length: descriptor.size - offset },
      onBodyProgress: (written) => report(offset + written),
    });
    await drain(response);
    if (response.status === 202) return this.#location(response, what);
    // 416: the registry's offset differs from ours; ask it where it is and carry on.
    throw new RetryableError(
      new KdeliverError(
        'operation',
        'BLOB_UPLOAD_OUT_OF_SYNC',
        `Registry ${this.registry} refused the range ${offset}- of ${what}.`,
      ),
    );
  }

  /** How many bytes of an upload the registry holds, and where to continue; undefined when it no longer knows the upload. */
  async #uploadStatus(
    repository: string,
    location: URL,
    what: string,
  ): Promise<{ received: number; location: URL } | undefined> {
    const response = await withRetry(
      () =>
        this.#attempt({
          method: 'GET',
          target: location,
          scopes: [pushScope(repository)],
          accept: [204, 404],
          what: `the upload state of ${what}`,
        }),
      this.#retry,
    ).catch((error: unknown) => {
      throw new KdeliverError(
        'operation',
        'BLOB_UPLOAD_NOT_RESUMABLE',
        `Registry ${this.registry} did not say how much of ${what} it has: ${messageOf(error)}`,
        {
          hint: 'Run the command again once the registry answers; blobs it already has are not sent again.',
          cause: error,
        },
      );
    });
    await drain(response);
    if (response.status === 404) return undefined;
    // Range is "0-<last byte>"; registries also say "0-0" for an empty upload, which is taken as empty.
    const end = /^(?:bytes=)?0-(\d+)$/.exec(header(response.headers, 'range') ?? '')?.[1];
    const received = end === undefined || end === '0' ? 0 : Number(end) + 1;
    return {
      received,
      location: header(response.headers, 'location') ? this.#location(response, what) : location,
    };
  }

  async #cancelUpload(repository: string, location: URL): Promise<void> {
    try {
      const response = await this.#attempt({
        method: 'DELETE',
        target: location,
        scopes: [pushScope(repository)],
        accept: [204, 404],
        what: 'a cancelled upload',
      });
      await drain(response);
    } catch {
      // Registries expire abandoned uploads; failing to cancel one early is harmless.
    }
  }

  #manifestName(repository: string, reference: string): string {
    return `manifest ${this.registry}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
  }

  #location(response: HttpResponse, what: string): URL {
    const location = header(response.headers, 'location');
    if (!location)
      throw new KdeliverError(
        'operation',
        'REGISTRY_PROTOCOL_ERROR',
        `Registry ${this.registry} sent no upload location for ${what}.`,
      );
    return new URL(location, this.#base);
  }

  /** One request with retries for transient failures. */
  #request(request: ApiRequest): Promise<HttpResponse> {
    return withRetry(() => this.#attempt(request), this.#retry);
  }

  /**
   * One attempt: authenticates (logging in again once on 401), follows redirects, and
   * turns failures into KdeliverErrors, wrapped in RetryableError when another attempt
   * may help.
   */
  async #attempt(request: ApiRequest): Promise<HttpResponse> {
    const url = typeof request.target === 'string' ? new URL(request.target, this.#base) : request.target;
    const headers = { ...request.headers };
    let authorization = await this.#auth.authorization(request.scopes);
    let response = await this.#send(request, url, headers, authorization);
    if (response.status === 401) {
      await drain(response);
      authorization = await this.#auth.reauthorize(response, request.scopes, authorization);
      // A streamed body is gone once sent: the caller resumes from what the registry has.
      if (request.body && !Buffer.isBuffer(request.body))
        throw new RetryableError(await this.#auth.unauthorized(response));
      response = await this.#send(request, url, headers, authorization);
      if (response.status === 401) {
        await drain(response);
        throw await this.#auth.unauthorized(response);
      }
    }
    for (let redirects = 0; request.followRedirects && isRedirect(response.status); redirects++) {
      await drain(response);
      const location = header(response.headers, 'location');
      if (!location || redirects >= MAX_REDIRECTS)
        throw new KdeliverError(
          'operation',
          'REGISTRY_REDIRECT_FAILED',
          `Registry ${this.registry} redirected ${request.what} ${location ? 'too often' : 'without a location'}.`,
        );
      const next = new URL(location, response.url);
      // Credentials are for the registry only, never for the storage it redirects to.
      const sameOrigin = next.origin === this.#base.origin;
      response = await this.#send(
        { ...request, body: undefined },
        next,
        headers,
        sameOrigin ? authorization : undefined,
      );
    }
    if (request.accept.includes(response.status)) return response;
    const body = await readBody(response, ERROR_BODY_LIMIT).catch(() => Buffer.alloc(0));
    const error = this.#statusError(request, response, body);
    if (response.status === 429 || response.status >= 500)
      throw new RetryableError(
        error,
        parseRetryAfter(header(response.headers, 'retry-after'), this.#retry.now()),
      );
    throw error;
  }

  #send(
    request: ApiRequest,
    url: URL,
    headers: Record<string, string>,
    authorization: string | undefined,
  ): Promise<HttpResponse> {
    const withAuth = authorization ? { ...headers, Authorization: authorization } : headers;
    return this.#sendOnce(request.method, url, withAuth, request.body, request.onBodyProgress);
  }

  async #sendOnce(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body?: RequestBody,
    onBodyProgress?: (written: number) => void,
  ): Promise<HttpResponse> {
    try {
      return await this.#transport.send({
        method,
        url,
        headers,
        ...(body ? { body } : {}),
        ...(onBodyProgress ? { onBodyProgress } : {}),
      });
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      if (isTlsFailure(error))
        throw new KdeliverError(
          'operation',
          'REGISTRY_TLS_FAILED',
          `TLS with registry ${this.registry} (${url.host}) failed: ${error.message}.`,
          {
            hint: 'Give the CA certificate that signed the registry certificate; if the registry speaks plain HTTP, mark it insecure.',
            cause: error,
          },
        );
      throw new RetryableError(
        new KdeliverError(
          'operation',
          'REGISTRY_UNREACHABLE',
          `Cannot reach registry ${this.registry} (${method} ${url.host}${url.pathname}): ${error.message}.`,
          {
            hint: 'Check the registry address, that it is running, and the network between here and there.',
            cause: error,
          },
        ),
      );
    }
  }

  #statusError(request: ApiRequest, response: HttpResponse, body: Buffer): KdeliverError {
    const details = registryErrors(body);
    const message = `Registry ${this.registry} answered HTTP ${response.status} to ${request.method} ${request.what}${details ? `: ${details}` : ''}.`;
    if (response.status === 404)
      return new KdeliverError('operation', 'REGISTRY_NOT_FOUND', message, {
        hint: 'Check the repository name, tag and digest.',
      });
    if (response.status === 403)
      return new KdeliverError('operation', 'REGISTRY_DENIED', message, {
        hint: 'The credentials are valid but lack permission for this repository.',
      });
    return new KdeliverError('operation', 'REGISTRY_REQUEST_FAILED', message);
  }
}

function isRedirect(status: number): boolean {
  return [301, 302, 303, 307, 308].includes(status);
}

/** The `errors` list registries put in error bodies, as one line. */
function registryErrors(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    return (parsed.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(' ')).join('; ');
  } catch {
    return body.toString('utf8').trim().slice(0, 200);
  }
}

function manifestMediaType(bytes: Buffer, contentType: string | undefined, what: string): string {
  let declared: string | undefined;
  try {
    declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType;
  } catch (error) {
    throw new KdeliverError(
      'operation',
      'MANIFEST_INVALID',
      `The ${what} is not valid JSON: ${messageOf(error)}.`,
      { cause: error },
    );
  }
  const header = contentType?.split(';')[0]?.trim();
  const mediaType = [declared, header].find(
    (type) => type && (isIndexMediaType(type) || isImageManifestMediaType(type)),
  );
  if (!mediaType)
    throw new KdeliverError(
      'operation',
      'MANIFEST_UNSUPPORTED',
      `The ${what} has media type ${declared ?? header ?? 'unknown'}, which kdeliver does not support.`,
      {
        hint: 'kdeliver handles OCI image manifests and indexes and Docker schema 2 manifests and manifest lists.',
      },
    );
  return mediaType;
}
