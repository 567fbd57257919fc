import { describe, expect, it } from 'vitest';
import { resourceDigest } from '../../../src/engine/canonical.ts';
import { observe } from '../../../src/engine/observe.ts';
import type { PriorResource } from '../../../src/engine/planner.ts';
import { KdeliverError } from '../../../src/errors.ts';
import { ImmutableFieldsError, type LiveObject, type SpecResource } from '../../../src/runtimes/runtime.ts';
import { FakeRuntime } from './fake-runtime.ts';
import { configMap, deployment, k8s, service } from './resources.ts';

const web = service('shop', 'web');
const settings = configMap('shop', 'settings', { body: { data: { mode: 'one' } } });
const app = deployment('shop', 'app', {
  body: {
    spec: {
      template: { spec: { containers: [{ env: [{ value: `$kusion_path.${web.id}.spec.clusterIP` }] }] } },
    },
  },
});

async function setup(live: SpecResource[]) {
  const runtime = new FakeRuntime();
  runtime.serverFields.set(web.id, { spec: { clusterIP: '10.0.0.7' } });
  for (const resource of live) await runtime.apply(resource);
  runtime.calls.length = 0;
  return { runtime, runtimes: new Map([[runtime.type, runtime]]) };
}

/** A digest of the object as the fake's "state" would record it. */
const digestOf = (live: LiveObject) => JSON.stringify(live.metadata) + JSON.stringify(live.data ?? {});

describe('observe', () => {
  it('dry-runs live resources with references resolved from live objects', async () => {
    const { runtime, runtimes } = await setup([web, app]);
    const live = await observe([web, app, settings], new Map(), { runtimes, concurrency: 4 });
    expect(live.get(settings.id)).toEqual({ object: undefined });
    const sent = runtime.calls.find((call) => call.method === 'dryRun' && call.id === app.id)?.resource;
    expect(JSON.stringify(sent?.attributes)).toContain('10.0.0.7');
    expect(live.get(app.id)?.dryRun).toBeDefined();
  });

  it('notes instead of dry-running a live resource that refers to an object not there yet', async () => {
    const { runtime, runtimes } = await setup([app]);
    const live = await observe([web, app], new Map(), { runtimes, concurrency: 4 });
    expect(live.get(app.id)?.noDryRun).toBe(`it refers to ${web.id}, which does not exist yet`);
    expect(runtime.idsOf('dryRun')).toEqual([]);
  });

  it('skips the dry run of what is as the last release left it, unless the spec or the object changed', async () => {
    const { runtime, runtimes } = await setup([settings]);
    const object = runtime.objects.get(settings.id)!;
    const prior = (digest: string, appliedDigest: string): Map<string, PriorResource> =>
      new Map([[settings.id, { resource: settings, digest, appliedDigest }]]);
    const options = { runtimes, concurrency: 4, appliedDigestOf: digestOf };

    const same = await observe([settings], prior(resourceDigest(settings), digestOf(object)), options);
    expect(same.get(settings.id)?.dryRun).toEqual(object);
    expect(runtime.idsOf('dryRun')).toEqual([]);

    await observe([settings], prior('sha256:older-spec', digestOf(object)), options);
    await observe([settings], prior(resourceDigest(settings), 'changed-outside'), options);
    expect(runtime.idsOf('dryRun')).toEqual([settings.id, settings.id]);
  });

  it('notes the fields that cannot change when the dry run is refused for them', async () => {
    const { runtime, runtimes } = await setup([app]);
    runtime.refusals.set(
      app.id,
      new ImmutableFieldsError('spec.selector: field is immutable', ['spec.selector']),
    );
    const live = await observe([app], new Map(), { runtimes, concurrency: 4 });
    expect(live.get(app.id)).toMatchObject({ immutableFields: ['spec.selector'] });
    expect(live.get(app.id)?.dryRun).toBeUndefined();
  });

  it('keeps Secret values of the spec out of the notes of refused dry runs', async () => {
    const creds = k8s('v1', 'Secret', 'shop', 'creds', { body: { stringData: { password: 's3cr3t-pw' } } });
    const { runtime, runtimes } = await setup([creds]);
    runtime.refusals.set(
      creds.id,
      new KdeliverError('input', 'K8S_OBJECT_INVALID', 'Invalid value: "s3cr3t-pw" (base64 czNjcjN0LXB3)'),
    );
    const live = await observe([creds], new Map(), { runtimes, concurrency: 4 });
    expect(live.get(creds.id)?.noDryRun).toBe('the dry run failed: Invalid value: "***" (base64 ***)');
  });
});
