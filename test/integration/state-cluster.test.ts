import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeClient } from '../../src/runtimes/kubernetes/client.ts';
import { loadKubeconfig } from '../../src/runtimes/kubernetes/kubeconfig.ts';
import { CHUNK_BYTES, pullStateCopy, pushStateCopy } from '../../src/state/cluster-copy.ts';
import { StackLease, forceUnlock, leaseName } from '../../src/state/lease-lock.ts';
import { StateStore } from '../../src/state/store.ts';
import { runProgram } from '../helpers/cli.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';

const client = () => new KubeClient(loadKubeconfig({ path: inject('sandboxEnv').KUBECONFIG }));
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kdeliver-state-cluster-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A state file of more than 1.5 MiB: releases whose variables carry incompressible padding. */
async function bigState(path: string): Promise<Uint8Array> {
  const store = await StateStore.open(path, { create: true });
  for (let i = 0; i < 12; i++) {
    await store.startRelease({
      project: 'shop',
      stack: 'prod',
      packageDigest: `sha256:${i}`,
      operator: 'ops',
      variables: {
        blob: Buffer.from(Array.from({ length: 100_000 }, () => Math.floor(Math.random() * 256))).toString(
          'base64',
        ),
      },
    });
  }
  const bytes = await store.bytes();
  store.close();
  return bytes;
}

describe('in-cluster state copy', () => {
  it('round-trips a state of more than 1.5 MiB through chunked Secrets', async () => {
    const stack = unique('copy');
    const bytes = await bigState(join(dir, 'big.db'));
    expect(bytes.length).toBeGreaterThan(1.5 * 1024 * 1024);

    const pushed = await pushStateCopy(client(), stack, bytes);
    expect(pushed.chunks).toHaveLength(Math.ceil(bytes.length / CHUNK_BYTES));
    const secrets = await kubectlJson([
      'get',
      'secrets',
      '-n',
      'kdeliver-system',
      '-l',
      `kdeliver.io/state=${stack}`,
    ]);
    expect(secrets.items).toHaveLength(pushed.chunks.length + 1);
    for (const secret of secrets.items) {
      expect(Buffer.from(JSON.stringify(secret.data)).length).toBeLessThan(1024 * 1024);
    }

    const pulled = await pullStateCopy(client(), stack);
    expect(Buffer.compare(Buffer.from(pulled), Buffer.from(bytes))).toBe(0);
    const copy = join(dir, 'pulled.db');
    await writeFile(copy, pulled);
    const count = await runProgram('sqlite3', [copy, 'SELECT count(*) FROM releases']);
    expect(count.stdout.trim()).toBe('12');
  });

  it('replaces the previous copy and removes its chunks', async () => {
    const stack = unique('replace');
    const path = join(dir, `${stack}.db`);
    const store = await StateStore.open(path, { create: true });
    await store.startRelease({ project: 'shop', stack, packageDigest: 'sha256:1', operator: 'ops' });
    const first = await pushStateCopy(client(), stack, await store.bytes());
    await store.startRelease({ project: 'shop', stack, packageDigest: 'sha256:2', operator: 'ops' });
    const second = await pushStateCopy(client(), stack, await store.bytes());
    expect(second.chunks).not.toEqual(first.chunks);
    const names = (
      await kubectlJson(['get', 'secrets', '-n', 'kdeliver-system', '-l', `kdeliver.io/state=${stack}`])
    ).items.map((s: { metadata: { name: string } }) => s.metadata.name);
    expect(names.sort()).toEqual([second.manifest, ...second.chunks].sort());
    await writeFile(join(dir, 'second.db'), await pullStateCopy(client(), stack));
    const reopened = await StateStore.open(join(dir, 'second.db'));
    expect((await reopened.history('shop', stack)).map((r) => r.packageDigest)).toEqual([
      'sha256:2',
      'sha256:1',
    ]);
    reopened.close();
    store.close();
  });

  it('refuses a copy whose chunk was changed, and a stack without a copy', async () => {
    const stack = unique('tamper');
    const store = await StateStore.open(join(dir, `${stack}.db`), { create: true });
    const pushed = await pushStateCopy(client(), stack, await store.bytes());
    store.close();
    const patch = await kubectl([
      'patch',
      'secret',
      pushed.chunks[0]!,
      '-n',
      'kdeliver-system',
      '--type=merge',
      '-p',
      JSON.stringify({ data: { chunk: Buffer.from('not the state').toString('base64') } }),
    ]);
    expect(patch.code).toBe(0);
    await expect(pullStateCopy(client(), stack)).rejects.toMatchObject({
      code: 'STATE_COPY_DIGEST_MISMATCH',
      kind: 'verification',
    });
    await expect(pullStateCopy(client(), unique('none'))).rejects.toMatchObject({
      code: 'STATE_COPY_NOT_FOUND',
    });
  });
});

describe('stack lease', () => {
  it('refuses a second run while the first holds the lease, naming the holder', async () => {
    const stack = unique('lock');
    const first = await StackLease.acquire(client(), stack, { identity: 'alice@site-a pid 41' });
    const refused = StackLease.acquire(client(), stack, { identity: 'bob@site-b pid 7' });
    await expect(refused).rejects.toMatchObject({ kind: 'locked', code: 'STACK_LOCKED' });
    await expect(refused).rejects.toThrow(/locked by alice@site-a pid 41 since \d{4}-\d\d-\d\dT/);
    const lease = await kubectlJson(['get', 'lease', leaseName(stack), '-n', 'kdeliver-system']);
    expect(lease.spec.holderIdentity).toBe('alice@site-a pid 41');

    await first.release();
    const second = await StackLease.acquire(client(), stack, { identity: 'bob@site-b pid 7' });
    expect(second.identity).toBe('bob@site-b pid 7');
    await second.release();
    expect((await kubectl(['get', 'lease', leaseName(stack), '-n', 'kdeliver-system'])).stderr).toContain(
      'NotFound',
    );
  });

  it('renews while held, so the lease does not expire under a long run', async () => {
    const stack = unique('renew');
    const held = await StackLease.acquire(client(), stack, { identity: 'long-run', durationSeconds: 2 });
    const before = (await kubectlJson(['get', 'lease', leaseName(stack), '-n', 'kdeliver-system'])).spec
      .renewTime;
    await sleep(3_500);
    const after = (await kubectlJson(['get', 'lease', leaseName(stack), '-n', 'kdeliver-system'])).spec
      .renewTime;
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
    await expect(StackLease.acquire(client(), stack, { identity: 'other' })).rejects.toMatchObject({
      code: 'STACK_LOCKED',
    });
    expect(held.lost.aborted).toBe(false);
    await held.release();
  });

  it('takes over an expired lease, and force-unlocks a live one of a dead holder', async () => {
    const stack = unique('dead');
    const old = new Date(Date.now() - 600_000).toISOString().replace('Z', '000Z');
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: leaseName(stack), namespace: 'kdeliver-system' },
      spec: { holderIdentity: 'crashed-run', leaseDurationSeconds: 60, acquireTime: old, renewTime: old },
    };
    const manifest = join(dir, `${stack}.json`);
    await writeFile(manifest, JSON.stringify(lease));
    expect((await kubectl(['create', '-f', manifest])).code).toBe(0);
    const taken = await StackLease.acquire(client(), stack, { identity: 'rescuer' });
    // The crashed holder's lease is gone from under the rescuer only by force.
    expect(await forceUnlock(client(), stack)).toMatchObject({ identity: 'rescuer' });
    expect(await forceUnlock(client(), stack)).toBeUndefined();
    await taken.renew();
    expect(taken.lost.aborted).toBe(true);
    expect(String((taken.lost.reason as Error).message)).toContain('lease was deleted');
    const next = await StackLease.acquire(client(), stack, { identity: 'next' });
    await next.release();
  });
});
