import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../src/runtimes/kubernetes/client.ts';
import { freePort } from '../../../src/sandbox/probe.ts';

const fastRetry = { maxElapsedMs: 2_000, initialDelayMs: 10, maxDelayMs: 50 };
let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

function config(url: string): KubeConfig {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kubeconfig;
}

/** A fake API server answering each request with the next of `answers`, recording what it got. */
async function fakeApiServer(answers: [number, unknown, Record<string, string>?][]) {
  const received: { method?: string; url?: string; headers: IncomingMessage['headers']; body: string }[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      const [status, answer, headers] = answers[Math.min(received.length - 1, answers.length - 1)]!;
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  return { client: new KubeClient(config(url), { retry: fastRetry }), received };
}

describe('KubeClient', () => {
  it('sends the body as given, with the content type, query and credentials', async () => {
    const { client, received } = await fakeApiServer([[200, { ok: true }]]);
    const response = await client.request({
      method: 'PATCH',
      path: '/api/v1/namespaces/a/configmaps/b',
      query: { fieldManager: 'kdeliver', force: undefined },
      body: { unknownField: { kept: 1 } },
      contentType: 'application/apply-patch+yaml',
    });
    expect(response).toEqual({ status: 200, body: { ok: true } });
    expect(received[0]).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/namespaces/a/configmaps/b?fieldManager=kdeliver',
      body: '{"unknownField":{"kept":1}}',
    });
    expect(received[0]?.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(received[0]?.headers.authorization).toBe('Bearer secret-token');
  });

  it('retries 429 and 503 until an answer comes', async () => {
    const { client, received } = await fakeApiServer([
      [429, { message: 'slow down' }, { 'Retry-After': '0' }],
      [503, { message: 'starting' }],
      [404, { kind: 'Status', message: 'not found' }],
    ]);
    const response = await client.request({ method: 'GET', path: '/api/v1/namespaces/x' });
    expect(response.status).toBe(404);
    expect(received).toHaveLength(3);
  });

  it('returns a plain 500 at once: the API server uses it for permanent errors too', async () => {
    const { client, received } = await fakeApiServer([
      [500, { message: 'failed to create typed patch object' }],
    ]);
    expect((await client.request({ method: 'GET', path: '/x' })).status).toBe(500);
    expect(received).toHaveLength(1);
  });

  it('returns the last answer when the server keeps failing past the bound', async () => {
    const { client, received } = await fakeApiServer([[503, { message: 'down' }]]);
    const started = Date.now();
    expect((await client.request({ method: 'GET', path: '/x' })).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(received.length).toBeGreaterThan(3);
  });

  it('gives up on a server that refuses connections with an operation error', async () => {
    const port = await freePort();
    const client = new KubeClient(config(`http://127.0.0.1:${port}`), { retry: fastRetry });
    await expect(client.request({ method: 'GET', path: '/version' })).rejects.toMatchObject({
      kind: 'operation',
      code: 'K8S_UNREACHABLE',
      message: expect.stringMatching(/did not answer GET \/version .*ECONNREFUSED/),
    });
  });

  it('stops retrying when aborted', async () => {
    const { client } = await fakeApiServer([[503, { message: 'down' }]]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('timed out by the engine')), 100);
    await expect(client.request({ method: 'GET', path: '/x', signal: controller.signal })).rejects.toThrow(
      'timed out by the engine',
    );
  });
});
