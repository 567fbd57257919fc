import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JournalStep } from '../../../src/engine/journal.ts';
import type { SpecResource } from '../../../src/runtimes/runtime.ts';
import { StateStore, appliedDigest } from '../../../src/state/store.ts';
import { runProgram } from '../../helpers/cli.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kdeliver-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const secret: SpecResource = {
  id: 'v1:Secret:shop:db',
  type: 'Kubernetes',
  attributes: {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db', namespace: 'shop' },
    stringData: { password: 'correct-horse-battery' },
  },
};
const config: SpecResource = {
  id: 'v1:ConfigMap:shop:settings',
  type: 'Kubernetes',
  attributes: {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: 'shop' },
    data: { a: '1' },
  },
  dependsOn: ['v1:Secret:shop:db'],
  extensions: { kdeliver: { health: { healthyWhen: [{ path: 'data.a', equals: '1' }] } } },
};

function step(resource: SpecResource, operation: JournalStep['operation']): JournalStep {
  return { id: resource.id, operation, action: 'create', resource };
}

describe('release state store', () => {
  it('round-trips releases, resources and variables through the file', async () => {
    const path = join(dir, 'state.db');
    const store = await StateStore.open(path, { create: true });
    const first = await store.startRelease(
      {
        project: 'shop',
        stack: 'prod',
        packageDigest: 'sha256:aa',
        operator: 'ops@host',
        variables: { replicas: 3 },
      },
      new Date('2030-01-01T00:00:00Z'),
    );
    expect(first).toMatchObject({ revision: 1, phase: 'pending', startedAt: '2030-01-01T00:00:00.000Z' });
    await store.setPhase(first.id, 'applying');
    await store.recordResources(first.id, [
      { resource: secret, digest: 'sha256:s1' },
      {
        resource: config,
        digest: 'sha256:c1',
        live: { ...config.attributes, metadata: { uid: 'u', name: 'settings' } },
      },
    ]);
    await store.setPhase(first.id, 'succeeded', { now: new Date('2030-01-01T00:05:00Z') });
    store.close();

    const reopened = await StateStore.open(path);
    expect(await reopened.release(first.id)).toEqual({
      ...first,
      phase: 'succeeded',
      finishedAt: '2030-01-01T00:05:00.000Z',
    });
    const resources = await reopened.resources(first.id);
    expect(resources.map((r) => r.resource.id)).toEqual([secret.id, config.id]);
    expect(resources[1]).toEqual({
      resource: config,
      digest: 'sha256:c1',
      appliedDigest: appliedDigest({ ...config.attributes, metadata: { name: 'settings' } }),
    });
    expect(resources[0]?.appliedDigest).toBeUndefined();
    expect((resources[0]?.resource.attributes.stringData as Record<string, string>).password).toMatch(
      /^sha256:[0-9a-f]{64}$/,
    );
    reopened.close();
  });

  it('never writes Secret values in clear text to the file', async () => {
    const path = join(dir, 'state.db');
    const store = await StateStore.open(path, { create: true });
    const release = await store.startRelease({
      project: 'shop',
      stack: 'prod',
      packageDigest: 'sha256:aa',
      operator: 'ops',
    });
    await store.recordResources(release.id, [
      { resource: secret, digest: 'sha256:s1', live: secret.attributes },
    ]);
    const bytes = await readFile(path);
    expect(bytes.includes('correct-horse-battery')).toBe(false);
    expect(bytes.includes('v1:Secret:shop:db')).toBe(true);
    store.close();
  });

  it('numbers revisions per project and stack and answers history and latest', async () => {
    const store = await StateStore.open(join(dir, 'state.db'), { create: true });
    const base = { project: 'shop', packageDigest: 'sha256:aa', operator: 'ops' };
    const a1 = await store.startRelease({ ...base, stack: 'a' });
    const b1 = await store.startRelease({ ...base, stack: 'b' });
    const a2 = await store.startRelease({ ...base, stack: 'a' });
    await store.setPhase(a1.id, 'succeeded');
    await store.setPhase(a2.id, 'failed', { error: 'boom' });
    expect([a1.revision, b1.revision, a2.revision]).toEqual([1, 1, 2]);
    expect((await store.history('shop', 'a')).map((r) => [r.revision, r.phase, r.error])).toEqual([
      [2, 'failed', 'boom'],
      [1, 'succeeded', undefined],
    ]);
    expect((await store.latest('shop', 'a'))?.revision).toBe(2);
    expect((await store.latest('shop', 'a', ['succeeded']))?.revision).toBe(1);
    expect(await store.latest('shop', 'c')).toBeUndefined();
    store.close();
  });

  it('journals steps in call order and notes the applied digest of a successful apply', async () => {
    const store = await StateStore.open(join(dir, 'state.db'), { create: true });
    const release = await store.startRelease({
      project: 'shop',
      stack: 'prod',
      packageDigest: 'sha256:aa',
      operator: 'ops',
    });
    await store.recordResources(release.id, [
      { resource: secret, digest: 'sha256:s1' },
      { resource: config, digest: 'sha256:c1' },
    ]);
    const journal = store.journal(release.id);
    const live = { ...config.attributes, status: {} };
    await journal.begin(step(secret, 'apply'));
    await journal.end(step(secret, 'apply'), { status: 'failed', error: 'denied' });
    await journal.begin(step(config, 'apply'));
    await journal.end(step(config, 'apply'), { status: 'succeeded', live });
    await journal.begin(step(config, 'wait'));
    const records = await store.journalRecords(release.id);
    expect(records.map((r) => [r.step, r.resourceId, r.phase, r.result ?? '-', r.error ?? '-'])).toEqual([
      ['apply', secret.id, 'begin', '-', '-'],
      ['apply', secret.id, 'end', 'failed', 'denied'],
      ['apply', config.id, 'begin', '-', '-'],
      ['apply', config.id, 'end', 'succeeded', '-'],
      ['wait', config.id, 'begin', '-', '-'],
    ]);
    expect(records.map((r) => r.seq)).toEqual([...records.map((r) => r.seq)].sort((a, b) => a - b));
    const resources = await store.resources(release.id);
    expect(resources.map((r) => r.appliedDigest)).toEqual([undefined, appliedDigest(live)]);
    store.close();
  });

  it('writes concurrent journal records together, each on disk before its caller resumes', async () => {
    const path = join(dir, 'state.db');
    const store = await StateStore.open(path, { create: true });
    const release = await store.startRelease({
      project: 'shop',
      stack: 'prod',
      packageDigest: 'sha256:aa',
      operator: 'ops',
    });
    const journal = store.journal(release.id);
    const onDisk = async (id: string) => {
      const other = await StateStore.open(path);
      const found = (await other.journalRecords(release.id)).some((record) => record.resourceId === id);
      other.close();
      return found;
    };
    const ids = Array.from({ length: 20 }, (_, i) => `v1:ConfigMap:shop:c${i}`);
    const seen = await Promise.all(
      ids.map(async (id) => {
        await journal.begin({ id, operation: 'apply', action: 'create', resource: { ...config, id } });
        return onDisk(id);
      }),
    );
    expect(seen).toEqual(ids.map(() => true));
    const records = await store.journalRecords(release.id);
    expect(records.map((r) => r.resourceId)).toEqual(ids);
    store.close();
  });

  it('writes the records of one tick in one write', async () => {
    const store = await StateStore.open(join(dir, 'state.db'), { create: true });
    const release = await store.startRelease({
      project: 'shop',
      stack: 'prod',
      packageDigest: 'sha256:aa',
      operator: 'ops',
    });
    const journal = store.journal(release.id);
    const writes = vi.spyOn(store, 'appendJournal');
    const step = { id: config.id, operation: 'apply' as const, action: 'create' as const, resource: config };
    await Promise.all([
      journal.end(step, { status: 'succeeded' }),
      journal.begin({ ...step, operation: 'wait' }),
    ]);
    expect(writes).toHaveBeenCalledTimes(1);
    expect((await store.journalRecords(release.id)).map((r) => `${r.phase} ${r.step}`)).toEqual([
      'end apply',
      'begin wait',
    ]);
    store.close();
  });

  it('sees what another store instance wrote to the same file', async () => {
    const path = join(dir, 'state.db');
    const one = await StateStore.open(path, { create: true });
    const two = await StateStore.open(path);
    await one.startRelease({ project: 'shop', stack: 'prod', packageDigest: 'sha256:aa', operator: 'one' });
    const second = await two.startRelease({
      project: 'shop',
      stack: 'prod',
      packageDigest: 'sha256:bb',
      operator: 'two',
    });
    expect(second.revision).toBe(2);
    expect((await one.history('shop', 'prod')).map((r) => r.operator)).toEqual(['two', 'one']);
    one.close();
    two.close();
  });

  it('refuses a missing file without create, and a file that is not a database', async () => {
    await expect(StateStore.open(join(dir, 'missing.db'))).rejects.toMatchObject({ code: 'STATE_NOT_FOUND' });
    await writeFile(join(dir, 'junk.db'), 'x'.repeat(4096));
    await expect(StateStore.open(join(dir, 'junk.db'))).rejects.toMatchObject({
      code: 'STATE_CORRUPT',
      kind: 'input',
    });
  });

  it('lets two processes write concurrently without losing or duplicating a revision', async () => {
    const path = join(dir, 'state.db');
    const writer = join(import.meta.dirname, 'state-writer.ts');
    const runs = await Promise.all([
      runProgram(process.execPath, [writer, path, 'prod', '15']),
      runProgram(process.execPath, [writer, path, 'prod', '15']),
    ]);
    for (const run of runs) expect(run.stderr).toBe('');
    const store = await StateStore.open(path);
    const history = await store.history('shop', 'prod');
    expect(history.map((r) => r.revision)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    expect(new Set(history.map((r) => r.operator)).size).toBe(2);
    store.close();
  });
});
