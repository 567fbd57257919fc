import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { KdeliverError, messageOf } from '../../errors.ts';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableConnectionError,
  isRetryableStatus,
  parseRetryAfter,
  retryDelayMs,
  type RetryPolicy,
} from './retry.ts';

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The API path, e.g. `/apis/apps/v1/namespaces/web/deployments/api`. */
  path: string;
  query?: Record<string, string | undefined>;
  /** Sent as JSON (also for apply patches: JSON is YAML). */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export interface KubeResponse {
  status: number;
  /** The parsed JSON answer; for errors usually a `Status` object. */
  body: unknown;
}

export interface KubeClientOptions {
  retry?: RetryPolicy;
  /** One attempt's limit; a request that takes longer is retried as a dropped connection. */
  requestTimeoutMs?: number;
}

/**
 * Raw HTTP to the API server with the kubeconfig's credentials. The typed clients of
 * @kubernetes/client-node serialize through their models and drop fields they do not
 * know, which breaks apply of arbitrary objects; this sends the object as given.
 * Transient failures (429, 5xx, dropped connections) are retried with backoff.
 */
export class KubeClient {
  readonly config: KubeConfig;
  readonly server: string;
  private readonly retry: RetryPolicy;
  private readonly requestTimeoutMs: number;
  /** A keep-alive agent for the current TLS credentials, and what they were. */
  private agent: { key: string; agent: Agent } | undefined;

  constructor(config: KubeConfig, options: KubeClientOptions = {}) {
    this.config = config;
    this.server = (config.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  /** Sends the request until it gets an answer; HTTP errors are answers, returned as they are. */
  async request(request: KubeRequest): Promise<KubeResponse> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      request.signal?.throwIfAborted();
      let retryAfter: number | undefined;
      try {
        const { status, body, headers } = await this.send(request);
        retryAfter = parseRetryAfter(headers['retry-after']);
        // Past the bound, the last failed answer is the answer.
        if (!isRetryableStatus(status, retryAfter) || this.exhausted(started, attempt, retryAfter)) {
          return { status, body };
        }
      } catch (error) {
        // The caller's reason (an engine timeout, say) rather than node's generic AbortError.
        if (request.signal?.aborted) throw request.signal.reason;
        if (!isRetryableConnectionError(error)) throw error;
        if (this.exhausted(started, attempt, undefined)) {
          throw new KdeliverError(
            'operation',
            'K8S_UNREACHABLE',
            `the Kubernetes API server at ${this.server} did not answer ${request.method} ${request.path} ` +
              `within ${Math.round((Date.now() - started) / 1000)} s (${attempt + 1} attempts; last: ${messageOf(error)})`,
            {
              hint: 'Check that the cluster is up and reachable from here, then run the command again.',
              cause: error,
            },
          );
        }
      }
      await sleep(retryDelayMs(this.retry, attempt, retryAfter), undefined, { signal: request.signal }).catch(
        (error: unknown) => {
          throw request.signal?.aborted ? request.signal.reason : error;
        },
      );
    }
  }

  private exhausted(started: number, attempt: number, retryAfter: number | undefined): boolean {
    return (
      Date.now() + retryDelayMs(this.retry, attempt, retryAfter, () => 1) - started > this.retry.maxElapsedMs
    );
  }

  /**
   * The kubeconfig library makes a new agent per request, which costs a TLS handshake per
   * request; connections are kept and reused while the TLS credentials stay the same. A
   * proxy agent (cluster proxy-url) is left as the library made it.
   */
  private reusedAgent(options: RequestOptions): RequestOptions['agent'] {
    if (this.config.getCurrentCluster()?.proxyUrl) return options.agent;
    const tls = {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
      rejectUnauthorized: options.rejectUnauthorized,
      servername: options.servername,
    };
    const key = JSON.stringify(
      Object.values(tls).map((value) => (Buffer.isBuffer(value) ? value.toString('base64') : value)),
    );
    if (this.agent?.key !== key) {
      this.agent?.agent.destroy();
      this.agent = { key, agent: new Agent({ ...tls, keepAlive: true, maxSockets: 64 }) };
    }
    return this.agent.agent;
  }

  private async send(request: KubeRequest): Promise<KubeResponse & { headers: IncomingHttpHeaders }> {
    const url = new URL(this.server + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const options: RequestOptions = {
      method: request.method,
      headers: { Accept: 'application/json' },
      timeout: this.requestTimeoutMs,
      signal: request.signal,
    };
    // Fresh each time: exec and OIDC credentials may rotate during a long run.
    await this.config.applyToHTTPSOptions(options);
    if (url.protocol === 'https:') options.agent = this.reusedAgent(options);
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    if (payload) {
      options.headers = {
        ...options.headers,
        'Content-Type': request.contentType ?? 'application/json',
        'Content-Length': payload.length,
      };
    }
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // Not JSON (a proxy's HTML page, a plain-text 5xx): keep the text for the message.
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      });
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
