/**
 * The registry client against a small in-process registry (node:http on loopback) that
 * speaks enough of the distribution API, with bearer tokens, to exercise token auth,
 * re-login, retries, chunked uploads cut off mid-PATCH, and corrupt content.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient, type RegistryClient } from '../../../src/bundle/oci/registry-client.ts';

const USER = 'alice';
const PASSWORD = 's3cret';

function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

interface Upload {
  data: Buffer[];
  size: number;
}

/** A registry in memory. Knobs on the instance make it misbehave in the ways under test. */
class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  /** Which repositories hold which blobs, for mounts. */
  readonly links = new Set<string>();
  readonly manifests = new Map<string, { type: string; bytes: Buffer }>();
  readonly uploads = new Map<string, Upload>();
  readonly tokenRequests: URLSearchParams[] = [];
  readonly log: string[] = [];
  validTokens = new Set<string>();
  /** Cut the connection after this many body bytes of the next PATCH or PUT to an upload. */
  dropNextBodyAfter: number | undefined;
  /** Forget the upload whose connection was cut (as a registry restarted without a shared secret does). */
  forgetDroppedUploads = false;
  /** Content-Range of every PATCH. */
  readonly patchRanges: string[] = [];
  /** Answer this many requests to /v2/<repo>/manifests with 429 first. */
  throttleManifests = 0;
  /** Redirect blob downloads to /storage on another origin (localhost instead of 127.0.0.1). */
  redirectBlobs = false;
  readonly storageAuthorization: (string | undefined)[] = [];
  /** Serve these bytes instead of the stored blob. */
  corrupt: Buffer | undefined;
  server: Server;
  host = '';
  #uploadIds = 0;
  #tokens = 0;

  constructor() {
    this.server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, `http://${this.host}`);
    this.log.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/token') return this.#token(req, url, res);
    if (url.pathname.startsWith('/storage/')) {
      this.storageAuthorization.push(req.headers.authorization);
      return void res.end(this.blobs.get(url.pathname.slice('/storage/'.length)));
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !this.validTokens.has(token)) {
      await readAll(req);
      res.writeHead(401, {
        'WWW-Authenticate': `Bearer realm="http://${this.host}/token",service="fake-registry"`,
        'Content-Type': 'application/json',
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    if (url.pathname === '/v2/') return void res.end('{}');
    const tags = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (tags) return this.#tags(url, res, tags[1]!);
    const match = /^\/v2\/(.+)\/(blobs\/uploads|blobs|manifests)\/?(.*)$/.exec(url.pathname);
    if (!match) return void res.writeHead(404).end();
    const [, repository, kind, rest] = match as unknown as [string, string, string, string];
    if (kind === 'manifests') return this.#manifest(req, res, repository, rest);
    if (kind === 'blobs') return this.#blob(req, res, repository, rest);
    return this.#upload(req, url, res, repository, rest);
  }

  /** Two tags a page, linked like distribution does. */
  #tags(url: URL, res: ServerResponse, repository: string): void {
    const all = [...this.manifests.keys()]
      .filter((key) => key.startsWith(`${repository}:`) && !key.includes('sha256:'))
      .map((key) => key.slice(repository.length + 1))
      .sort();
    const after = url.searchParams.get('last');
    const rest = after ? all.filter((tag) => tag > after) : all;
    const page = rest.slice(0, 2);
    if (rest.length > 2)
      res.setHeader('Link', `</v2/${repository}/tags/list?n=2&last=${page.at(-1)}>; rel="next"`);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ name: repository, tags: page }));
  }

  async #token(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    this.tokenRequests.push(url.searchParams);
    const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return void res.writeHead(401).end();
    const token = `token-${++this.#tokens}`;
    this.validTokens.add(token);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ access_token: token, expires_in: 300 }));
  }

  async #manifest(
    req: IncomingMessage,
    res: ServerResponse,
    repository: string,
    reference: string,
  ): Promise<void> {
    if (this.throttleManifests > 0) {
      this.throttleManifests--;
      return void res.writeHead(429, { 'Retry-After': '0' }).end();
    }
    const key = `${repository}:${reference}`;
    if (req.method === 'PUT') {
      const bytes = await readAll(req);
      const entry = { type: req.headers['content-type']!, bytes };
      this.manifests.set(key, entry);
      this.manifests.set(`${repository}:${digestOf(bytes)}`, entry);
      return void res.writeHead(201, { 'Docker-Content-Digest': digestOf(bytes) }).end();
    }
    const entry = this.manifests.get(key);
    if (!entry) return void res.writeHead(404).end();
    res.writeHead(200, {
      'Content-Type': entry.type,
      'Content-Length': entry.bytes.length,
      'Docker-Content-Digest': digestOf(entry.bytes),
    });
    res.end(req.method === 'HEAD' ? undefined : entry.bytes);
  }

  #blob(req: IncomingMessage, res: ServerResponse, repository: string, digest: string): void {
    const data = this.links.has(`${repository}@${digest}`) ? this.blobs.get(digest) : undefined;
    if (!data) return void res.writeHead(404).end();
    if (this.redirectBlobs && req.method === 'GET') {
      const port = this.host.split(':')[1];
      return void res.writeHead(307, { Location: `http://localhost:${port}/storage/${digest}` }).end();
    }
    const served = this.corrupt ?? data;
    res.writeHead(200, { 'Content-Length': served.length, 'Docker-Content-Digest': digest });
    res.end(req.method === 'HEAD' ? undefined : served);
  }

  async #upload(
    req: IncomingMessage,
    url: URL,
    res: ServerResponse,
    repository: string,
    id: string,
  ): Promise<void> {
    const location = (uploadId: string) => `/v2/${repository}/blobs/uploads/${uploadId}`;
    if (req.method === 'POST') {
      const mount = url.searchParams.get('mount');
      const from = url.searchParams.get('from');
      if (mount && this.links.has(`${from}@${mount}`)) {
        this.links.add(`${repository}@${mount}`);
        return void res.writeHead(201, { Location: `/v2/${repository}/blobs/${mount}` }).end();
      }
      const uploadId = String(++this.#uploadIds);
      this.uploads.set(uploadId, { data: [], size: 0 });
      return void res.writeHead(202, { Location: location(uploadId), Range: '0-0' }).end();
    }
    const upload = this.uploads.get(id);
    if (!upload) return void res.writeHead(404).end();
    const range = () => ({ Location: location(id), Range: `0-${Math.max(0, upload.size - 1)}` });
    if (req.method === 'GET') return void res.writeHead(204, range()).end();
    if (req.method === 'DELETE') {
      this.uploads.delete(id);
      return void res.writeHead(204).end();
    }
    if (req.method === 'PATCH') {
      this.patchRanges.push(req.headers['content-range'] ?? '');
      const start = Number(/^(\d+)-/.exec(req.headers['content-range'] ?? '')?.[1]);
      if (start !== upload.size) {
        await readAll(req);
        return void res.writeHead(416, range()).end();
      }
      if (!(await this.#receive(req, id, upload))) return;
      return void res.writeHead(202, range()).end();
    }
    if (req.method === 'PUT') {
      if (!(await this.#receive(req, id, upload))) return;
      const data = Buffer.concat(upload.data);
      const digest = url.searchParams.get('digest')!;
      if (digestOf(data) !== digest)
        return void res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
      this.blobs.set(digest, data);
      this.links.add(`${repository}@${digest}`);
      this.uploads.delete(id);
      return void res.writeHead(201, { Location: `/v2/${repository}/blobs/${digest}` }).end();
    }
    res.writeHead(405).end();
  }

  /** Appends a request body to an upload; false when the connection was cut on purpose. */
  async #receive(req: IncomingMessage, id: string, upload: Upload): Promise<boolean> {
    const drop = this.dropNextBodyAfter;
    this.dropNextBodyAfter = undefined;
    let received = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      const take = drop === undefined ? chunk : chunk.subarray(0, Math.max(0, drop - received));
      upload.data.push(take);
      upload.size += take.length;
      received += take.length;
      if (drop !== undefined && received >= drop) {
        if (this.forgetDroppedUploads) this.uploads.delete(id);
        req.socket.destroy();
        return false;
      }
    }
    return true;
  }
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const fastRetry = { sleep: async () => {}, baseDelayMs: 1 };

describe('registry client against a local registry', () => {
  let registry: FakeRegistry;
  let client: RegistryClient;

  beforeEach(async () => {
    registry = new FakeRegistry();
    await registry.start();
    client = await createRegistryClient({
      registry: registry.host,
      insecure: true,
      credentials: { username: USER, password: PASSWORD },
      retry: fastRetry,
      smallBlobSize: 64 * 1024,
    });
  });

  afterEach(async () => {
    client.close();
    await registry.stop();
  });

  it('logs in with a bearer token per scope and caches it', async () => {
    await client.ping();
    const data = randomBytes(1000);
    const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };
    await client.pushBlob('team/app', () => Readable.from([data]), descriptor);
    expect(await client.hasBlob('team/app', descriptor.digest)).toBe(true);
    expect(await readAll(await client.openBlob('team/app', descriptor))).toEqual(data);
    expect(await client.hasBlob('team/app', digestOf(Buffer.from('other')))).toBe(false);

    const scopes = registry.tokenRequests.map((params) => params.getAll('scope').join(' '));
    expect(registry.tokenRequests.every((params) => params.get('service') === 'fake-registry')).toBe(true);
    // One token for the ping, one for push, one for pull: each reused afterwards.
    expect(scopes).toEqual(['', 'repository:team/app:pull,push', 'repository:team/app:pull']);
  });

  it('shares one token request among concurrent requests', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    await Promise.all(Array.from({ length: 5 }, () => client.hasBlob('team/app', missing)));
    await Promise.all(Array.from({ length: 5 }, () => client.hasBlob('team/other', missing)));
    expect(registry.tokenRequests.map((params) => params.getAll('scope').join(' '))).toEqual([
      'repository:team/app:pull',
      'repository:team/other:pull',
    ]);
  });

  it('logs in again once when the registry stops accepting its token', async () => {
    const manifest = Buffer.from(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}',
    );
    await client.putManifest('team/app', 'v1', manifest, 'application/vnd.oci.image.manifest.v1+json');
    const before = registry.tokenRequests.length;
    registry.validTokens.clear(); // as if the tokens expired early
    const fetched = await client.getManifest('team/app', 'v1');
    expect(fetched.bytes).toEqual(manifest);
    expect(fetched.descriptor).toEqual({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digestOf(manifest),
      size: manifest.length,
    });
    expect(registry.tokenRequests.length - before).toBe(1);
  });

  it('heads manifests by tag and digest', async () => {
    const manifest = Buffer.from('{"schemaVersion":2,"config":{},"layers":[]}');
    const digest = await client.putManifest(
      'team/app',
      'v2',
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    const expected = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: manifest.length,
    };
    expect(await client.headManifest('team/app', 'v2')).toEqual(expected);
    expect(await client.headManifest('team/app', digest)).toEqual(expected);
    expect(await client.headManifest('team/app', 'v3')).toBeUndefined();
  });

  it('says so when the credentials are refused', async () => {
    const refused = await createRegistryClient({
      registry: registry.host,
      insecure: true,
      credentials: { username: USER, password: 'wrong' },
      retry: fastRetry,
    });
    try {
      await expect(refused.getManifest('team/app', 'v1')).rejects.toMatchObject({
        kind: 'operation',
        code: 'REGISTRY_UNAUTHORIZED',
        message: expect.stringContaining(registry.host),
      });
    } finally {
      refused.close();
    }
  });

  it('retries after 429 and reports a missing manifest with registry and reference', async () => {
    registry.throttleManifests = 2;
    await expect(client.getManifest('team/app', 'nope')).rejects.toMatchObject({
      code: 'REGISTRY_NOT_FOUND',
      message: expect.stringMatching(/HTTP 404 .*team\/app:nope/),
    });
    expect(registry.log.filter((line) => line.endsWith('/manifests/nope')).length).toBe(4); // 2×429, then 401 and 404
  });

  /** An opener over `data` in 4 KiB pieces (as a file or network stream delivers them) that records each offset asked for. */
  function opener(data: Buffer, offsets: number[]) {
    return (offset: number) => {
      offsets.push(offset);
      const rest = data.subarray(offset);
      return Readable.from(
        Array.from({ length: Math.ceil(rest.length / 4096) }, (_, i) =>
          rest.subarray(i * 4096, (i + 1) * 4096),
        ),
      );
    };
  }

  it('streams a large blob in the PUT that finishes the upload', async () => {
    const data = randomBytes(300 * 1024);
    const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };
    const offsets: number[] = [];
    await client.pushBlob('team/big', opener(data, offsets), descriptor);
    expect(registry.blobs.get(descriptor.digest)).toEqual(data);
    // One upload (the first POST may be turned away for a token), finished by one PUT, no PATCH.
    expect(registry.log.filter((line) => /^(PUT|PATCH) /.test(line))).toEqual([
      'PUT /v2/team/big/blobs/uploads/1',
    ]);
    expect(offsets).toEqual([0]);
  });

  it('resumes an upload from the offset the registry has after the connection drops', async () => {
    const data = randomBytes(300 * 1024);
    const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };
    registry.dropNextBodyAfter = 10_000;
    const progress: number[] = [];
    const offsets: number[] = [];
    await client.pushBlob('team/big', opener(data, offsets), descriptor, (bytes) => progress.push(bytes));

    expect(registry.blobs.get(descriptor.digest)).toEqual(data);
    expect(offsets).toEqual([0, 10_000]);
    expect(registry.log).toContain(`GET /v2/team/big/blobs/uploads/1`);
    expect(registry.patchRanges).toEqual([`10000-${data.length - 1}`]);
    expect(progress.at(-1)).toBe(data.length);
    expect(progress.every((bytes, i) => i === 0 || bytes > progress[i - 1]!)).toBe(true);
  });

  it('starts an upload again when the registry lost it', async () => {
    const data = randomBytes(300 * 1024);
    const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };
    registry.dropNextBodyAfter = 50_000;
    registry.forgetDroppedUploads = true;
    const offsets: number[] = [];
    await client.pushBlob('team/big', opener(data, offsets), descriptor);

    expect(registry.blobs.get(descriptor.digest)).toEqual(data);
    expect(offsets).toEqual([0, 0]);
    // The first upload was cut off and forgotten; a second one carried the whole blob.
    expect(registry.log.filter((line) => /^(PUT|PATCH) /.test(line))).toEqual([
      'PUT /v2/team/big/blobs/uploads/1',
      'PUT /v2/team/big/blobs/uploads/2',
    ]);
  });

  it('mounts a blob from another repository and falls back when it cannot', async () => {
    const data = randomBytes(2000);
    const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };
    await client.pushBlob('team/one', () => Readable.from([data]), descriptor);
    expect(await client.mountBlob('team/two', descriptor, 'team/one')).toBe(true);
    expect(await client.hasBlob('team/two', descriptor.digest)).toBe(true);
    expect(await client.mountBlob('team/three', descriptor, 'team/none')).toBe(false);
    expect(registry.uploads.size).toBe(0); // the upload the failed mount opened was cancelled
  });

  it('follows blob redirects without sending credentials to the other origin', async () => {
    const data = randomBytes(3000);
    const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };
    await client.pushBlob('team/app', () => Readable.from([data]), descriptor);
    registry.redirectBlobs = true;
    expect(digestOf(await readAll(await client.openBlob('team/app', descriptor)))).toBe(descriptor.digest);
    expect(registry.storageAuthorization).toEqual([undefined]);
  });

  it('fails verification when a pulled blob does not match its digest', async () => {
    const data = randomBytes(5000);
    const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };
    await client.pushBlob('team/app', () => Readable.from([data]), descriptor);
    registry.corrupt = Buffer.from(data).fill(7, 100, 200);
    await expect(readAll(await client.openBlob('team/app', descriptor))).rejects.toMatchObject({
      kind: 'verification',
      code: 'BLOB_DIGEST_MISMATCH',
    });
    registry.corrupt = Buffer.concat([data, Buffer.from('extra')]);
    await expect(readAll(await client.openBlob('team/app', descriptor))).rejects.toMatchObject({
      kind: 'verification',
    });
  });

  it('refuses to push a stream that does not match its descriptor', async () => {
    const data = randomBytes(200 * 1024);
    const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };
    const tampered = Buffer.from(data).fill(0, 150_000, 150_100);
    await expect(
      client.pushBlob('team/app', () => Readable.from([tampered]), descriptor),
    ).rejects.toMatchObject({
      kind: 'verification',
      code: 'BLOB_DIGEST_MISMATCH',
    });
    expect(registry.blobs.has(descriptor.digest)).toBe(false);
    expect(registry.uploads.size).toBe(0);
  });

  it('lists tags across pages', async () => {
    const manifest = Buffer.from('{}');
    for (const tag of ['v3', 'v1', 'v2', 'latest', 'v4'])
      await client.putManifest('team/app', tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
    expect(await client.listTags('team/app')).toEqual(['latest', 'v1', 'v2', 'v3', 'v4']);
    expect(registry.log.filter((line) => line.endsWith('/tags/list')).length).toBe(3); // three pages; the scheme is known, so the token comes first
  });
});
