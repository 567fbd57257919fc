import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Sha256Worker } from '../../../src/bundle/sha256-worker.ts';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let worker: Sha256Worker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

describe('Sha256Worker', () => {
  it('gives the digests node:crypto gives, chunk sizes straddling its slots, one digest after another', async () => {
    worker = new Sha256Worker();
    // More than the ring holds (8 MiB), so the producer has to wait for the worker.
    const data = randomBytes(20 * 1024 * 1024 + 123);
    for (const chunkSize of [1, 4093, 256 * 1024, 1024 * 1024 + 7, 3 * 1024 * 1024]) {
      const part = data.subarray(0, chunkSize === 1 ? 5000 : data.length);
      for (let offset = 0; offset < part.length; offset += chunkSize)
        await worker.update(part.subarray(offset, offset + chunkSize));
      expect(await worker.digest(), `chunks of ${chunkSize}`).toBe(sha256(part));
    }
    expect(await worker.digest()).toBe(sha256(Buffer.alloc(0)));
  });

  it('copies each chunk before update returns, so the caller may reuse it at once', async () => {
    worker = new Sha256Worker();
    const reused = Buffer.alloc(64 * 1024);
    const expected = createHash('sha256');
    for (let i = 0; i < 300; i++) {
      reused.fill(i % 251);
      expected.update(reused);
      await worker.update(reused);
    }
    expect(await worker.digest()).toBe(expected.digest('hex'));
  });

  it('starts afresh after an abandoned digest', async () => {
    worker = new Sha256Worker();
    await worker.update(randomBytes(3 * 1024 * 1024));
    await worker.abandon();
    const data = randomBytes(1000);
    await worker.update(data);
    expect(await worker.digest()).toBe(sha256(data));
    await worker.abandon(); // nothing given since: nothing to end
    expect(await worker.digest()).toBe(sha256(Buffer.alloc(0)));
  });
});
