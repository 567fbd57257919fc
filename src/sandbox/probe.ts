import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KdeliverError } from '../errors.ts';
import { isAlive, type TrackedProcess } from './processes.ts';

/** A TCP port on loopback that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** The HTTP status of a GET, or undefined when nothing answers. */
export async function httpStatus(url: string, tls: TlsFiles = {}): Promise<number | undefined> {
  const options: RequestOptions = { method: 'GET', timeout: 2_000 };
  if (tls.ca) options.ca = await readFile(tls.ca);
  if (tls.cert) options.cert = await readFile(tls.cert);
  if (tls.key) options.key = await readFile(tls.key);
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(url, options, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * Polls until `ready` holds; fails early with the end of the daemon's log when the
 * daemon has exited, since waiting longer cannot help then.
 */
export async function waitUntil(
  what: string,
  ready: () => Promise<boolean>,
  options: { timeoutMs: number; process?: TrackedProcess },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await ready()) return;
    // Not isRunning: a daemon started a moment ago may not have exec'd its binary yet.
    if (options.process && !isAlive(options.process.pid)) {
      throw new KdeliverError(
        'operation',
        'SANDBOX_START_FAILED',
        `${what} exited during start-up: ${await lastError(options.process.log)}`,
        {
          hint: `The full log is ${options.process.log}.`,
        },
      );
    }
    if (Date.now() > deadline) {
      throw new KdeliverError(
        'operation',
        'SANDBOX_START_TIMEOUT',
        `${what} was not ready after ${options.timeoutMs / 1000}s`,
        {
          hint: options.process ? `See its log: ${options.process.log}.` : undefined,
        },
      );
    }
    await sleep(200);
  }
}

/** The last error a daemon logged (klog `E`/`F` lines, or any line saying error), else its last line. */
async function lastError(path: string): Promise<string> {
  const lines = await readFile(path, 'utf8').then(
    (text) => text.trimEnd().split('\n'),
    () => [],
  );
  const errors = lines.filter((line) => /^[EF]\d{4} |\berror\b|"level":"(error|fatal)"/i.test(line));
  return (errors.at(-1) ?? lines.at(-1) ?? '(nothing logged)').trim();
}
