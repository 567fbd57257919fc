/**
 * HTTP/1.1 requests over node:http and node:https. Node's global fetch cannot take a
 * custom CA per registry without undici's Agent, which is not a dependency of ours, so
 * requests go through one keep-alive https.Agent per registry that trusts the system
 * roots plus the registry's CA. Responses stay Node streams: bodies are never buffered
 * here, and request bodies are written in slices so upload progress can be reported.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { createSecureContext, rootCertificates } from 'node:tls';
import { KdeliverError, messageOf } from '../../errors.ts';

/** A request body that is not in memory: exactly `length` bytes, read as they are sent. */
export interface StreamedBody {
  stream: AsyncIterable<Buffer>;
  length: number;
}

export type RequestBody = Buffer | StreamedBody;

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Called with the total body bytes written so far. */
  onBodyProgress?: (written: number) => void;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
}

/** The connection failed before a complete response arrived. */
export class ConnectionError extends Error {
  readonly code: string | undefined;

  constructor(url: URL, cause: unknown) {
    super(`${url.host}: ${messageOf(cause)}`, { cause });
    this.name = 'ConnectionError';
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

const TLS_ERROR_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** Certificate and protocol failures do not go away by retrying. */
export function isTlsFailure(error: ConnectionError): boolean {
  return error.code !== undefined && TLS_ERROR_CODES.has(error.code);
}

/** PEM text from a CA file, or from every *.crt / *.pem file in a directory. */
export async function loadCaCertificates(path: string): Promise<string[]> {
  try {
    if (!(await stat(path)).isDirectory()) return [await readFile(path, 'utf8')];
    const names = (await readdir(path)).filter((name) => /\.(crt|pem)$/.test(name)).sort();
    return Promise.all(names.map((name) => readFile(join(path, name), 'utf8')));
  } catch (error) {
    throw new KdeliverError(
      'input',
      'REGISTRY_CA_UNREADABLE',
      `Cannot read the CA certificate ${path}: ${messageOf(error)}.`,
      {
        hint: 'Give a PEM file, or a directory of *.crt files.',
        cause: error,
      },
    );
  }
}

const SLICE = 256 * 1024;
const IDLE_TIMEOUT_MS = 60_000;

export class HttpTransport {
  readonly #https: HttpsAgent;
  readonly #http = new HttpAgent({ keepAlive: true });

  /** `ca`: extra trusted certificates (PEM), on top of the system roots. */
  constructor(ca: string[] = []) {
    this.#https = new HttpsAgent({
      keepAlive: true,
      // One context for every connection. Given as `ca`, the agent would parse the ~150 roots
      // again for each new connection and join their text into its key on every request.
      ...(ca.length ? { secureContext: createSecureContext({ ca: [...rootCertificates, ...ca] }) } : {}),
    });
  }

  send(request: HttpRequest): Promise<HttpResponse> {
    const secure = request.url.protocol === 'https:';
    const requestFn = secure ? httpsRequest : httpRequest;
    const body = request.body;
    // GET and HEAD carry no body, and some servers reject a Content-Length on them.
    const headers: Record<string, string> =
      request.method === 'GET' || request.method === 'HEAD'
        ? { ...request.headers }
        : { ...request.headers, 'Content-Length': String(body?.length ?? 0) };
    return new Promise((resolve, reject) => {
      // A body that fails (e.g. content that does not match its digest) is that failure, not a connection error.
      let bodyError: unknown;
      const req = requestFn(
        request.url,
        { method: request.method, headers, agent: secure ? this.#https : this.#http },
        (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: request.url }),
      );
      req.setTimeout(IDLE_TIMEOUT_MS, () =>
        req.destroy(Object.assign(new Error('idle timeout'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (error) => reject(bodyError ?? new ConnectionError(request.url, error)));
      if (!body) {
        req.end();
        return;
      }
      const written = Buffer.isBuffer(body)
        ? writeSlices(req, body, request.onBodyProgress)
        : writeStream(req, body, request.onBodyProgress);
      written.catch((error: unknown) => {
        if (!(error instanceof BodyWriteError)) bodyError = error;
        req.destroy(error as Error);
      });
    });
  }

  close(): void {
    this.#https.destroy();
    this.#http.destroy();
  }
}

type RequestStream = NodeJS.WritableStream & { destroyed: boolean };

/** The connection failed while the body was being written (the request reports it). */
class BodyWriteError extends Error {}

function writeOne(req: RequestStream, piece: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    req.write(piece, (error) => (error ? reject(new BodyWriteError(messageOf(error))) : resolve())),
  );
}

async function writeSlices(
  req: RequestStream,
  body: Buffer,
  onProgress: ((written: number) => void) | undefined,
): Promise<void> {
  for (let offset = 0; offset < body.length && !req.destroyed; offset += SLICE) {
    const slice = body.subarray(offset, offset + SLICE);
    await writeOne(req, slice);
    onProgress?.(offset + slice.length);
  }
  req.end();
}

/** Writes a streamed body as it arrives, a piece at a time (the write callback is the backpressure). */
async function writeStream(
  req: RequestStream,
  body: StreamedBody,
  onProgress: ((written: number) => void) | undefined,
): Promise<void> {
  let written = 0;
  for await (const chunk of body.stream) {
    if (req.destroyed) return;
    written += chunk.length;
    if (written > body.length) throw new Error(`the request body is longer than its ${body.length} bytes`);
    await writeOne(req, chunk);
    onProgress?.(written);
  }
  if (written !== body.length)
    throw new Error(`the request body ended after ${written} of ${body.length} bytes`);
  req.end();
}

/** Reads a (small) response body whole; `limit` guards against endless documents. */
export async function readBody(response: HttpResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      response.body.destroy();
      throw new KdeliverError(
        'operation',
        'REGISTRY_RESPONSE_TOO_LARGE',
        `The response from ${response.url.host}${response.url.pathname} is larger than ${limit} bytes.`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Discards a response body so the connection can be reused. */
export async function drain(response: HttpResponse): Promise<void> {
  response.body.resume();
  await new Promise<void>((resolve) => {
    if (response.body.readableEnded) resolve();
    response.body.once('end', resolve);
    response.body.once('error', () => resolve());
    response.body.once('close', resolve);
  });
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
