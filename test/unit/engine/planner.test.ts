import { describe, expect, it } from 'vitest';
import { resourceDigest, sha256Hex } from '../../../src/engine/canonical.ts';
import { plan, planBlockers, type LiveResource, type PriorResource } from '../../../src/engine/planner.ts';
import type { LiveObject, SpecResource } from '../../../src/runtimes/runtime.ts';
import { configMap, deployment, k8s, namespace } from './resources.ts';

/** What the API server would store: the attributes plus server-managed fields. */
function stored(resource: SpecResource, extra: Record<string, unknown> = {}): LiveObject {
  const metadata = resource.attributes.metadata as Record<string, unknown>;
  return {
    ...structuredClone(resource.attributes),
    metadata: {
      ...metadata,
      uid: 'c0ffee',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2025-01-01T00:00:00Z',
      managedFields: [{ manager: 'kdeliver' }],
      annotations: { 'deployment.kubernetes.io/revision': '3' },
    },
    status: { readyReplicas: 1 },
    ...extra,
  };
}

const prior = (resource: SpecResource, digest = resourceDigest(resource)): [string, PriorResource] => [
  resource.id,
  { resource, digest },
];

function single(
  priorResources: [string, PriorResource][],
  desired: SpecResource[],
  live: [string, LiveResource][],
) {
  const result = plan(new Map(priorResources), desired, new Map(live));
  return [...result.apply.steps, ...result.delete.steps];
}

describe('plan: prior × desired × live', () => {
  const app = deployment('shop', 'web', { body: { spec: { replicas: 2 } } });
  const scaled = deployment('shop', 'web', { body: { spec: { replicas: 3 } } });

  it('creates what is desired, not recorded and not live', () => {
    const [step] = single([], [app], []);
    expect(step).toMatchObject({ action: 'create', reason: 'new resource', digest: resourceDigest(app) });
    expect(step?.diff).toBeUndefined();
  });

  it('creates again what was recorded but is gone from the cluster', () => {
    const [step] = single([prior(app)], [app], [[app.id, { object: undefined }]]);
    expect(step).toMatchObject({
      action: 'create',
      reason: 'recorded by the last release but missing from the cluster',
    });
  });

  it('adopts what is live but no release recorded, with a diff', () => {
    const live = stored(app, { spec: { replicas: 5 } });
    const [step] = single([], [app], [[app.id, { object: live, dryRun: stored(app) }]]);
    expect(step?.action).toBe('adopt');
    expect(step?.diff).toContain('-  replicas: 5');
    expect(step?.diff).toContain('+  replicas: 2');
  });

  it('leaves alone what differs only in server-managed fields', () => {
    const live = stored(app);
    const dryRun = stored(app, { status: { readyReplicas: 0 } });
    const dryRunMetadata = dryRun.metadata as Record<string, unknown>;
    Object.assign(dryRunMetadata, {
      resourceVersion: '43',
      generation: 4,
      managedFields: [],
      selfLink: '/x',
      annotations: { 'deployment.kubernetes.io/revision': '4' },
    });
    const [step] = single([prior(app)], [app], [[app.id, { object: live, dryRun }]]);
    expect(step).toMatchObject({ action: 'unchanged', live });
    expect(step?.diff).toBeUndefined();
  });

  it('updates what the spec changed, with a diff of live against the dry run', () => {
    const [step] = single(
      [prior(app)],
      [scaled],
      [[app.id, { object: stored(app), dryRun: stored(scaled) }]],
    );
    expect(step).toMatchObject({ action: 'update', reason: 'changed in the spec' });
    expect(step?.diff).toContain('--- apps/v1:Deployment:shop:web (live)');
    expect(step?.diff).toContain('+++ apps/v1:Deployment:shop:web (after apply)');
    expect(step?.diff).toContain('-  replicas: 2\n+  replicas: 3');
    expect(step?.diff).not.toContain('resourceVersion');
  });

  it('updates what drifted in the cluster while the spec stayed the same', () => {
    const [step] = single([prior(app)], [app], [[app.id, { object: stored(scaled), dryRun: stored(app) }]]);
    expect(step).toMatchObject({
      action: 'update',
      reason: 'changed in the cluster outside kdeliver (drift)',
    });
  });

  it('keeps user annotations in the comparison', () => {
    const live = stored(app);
    (live.metadata as { annotations: Record<string, string> }).annotations['team'] = 'a';
    const [step] = single([prior(app)], [app], [[app.id, { object: live, dryRun: stored(app) }]]);
    expect(step?.action).toBe('update');
    expect(step?.diff).toContain('-    team: a');
  });

  it('deletes what was recorded, is no longer desired and is still live', () => {
    const [step] = single([prior(app)], [], [[app.id, { object: stored(app) }]]);
    expect(step).toMatchObject({ action: 'delete', reason: 'removed from the spec', resource: app });
  });

  it('forgets what was recorded, is no longer desired and is already gone', () => {
    const [step] = single([prior(app)], [], []);
    expect(step).toMatchObject({ action: 'forget', resource: app });
  });

  it('ignores what is neither recorded nor desired', () => {
    expect(single([], [], [[app.id, { object: stored(app) }]])).toEqual([]);
  });

  it('needs a dry-run result for a desired live resource', () => {
    expect(() => single([prior(app)], [app], [[app.id, { object: stored(app) }]])).toThrow(
      expect.objectContaining({ code: 'PLAN_DRY_RUN_MISSING' }),
    );
  });

  it('plans a live resource without a dry run as a change, with the reason why', () => {
    const note = 'it refers to v1:Service:shop:db, which does not exist yet';
    const [update] = single([prior(app)], [app], [[app.id, { object: stored(app), noDryRun: note }]]);
    expect(update).toMatchObject({ action: 'update', reason: `not compared: ${note}` });
    expect(update?.diff).toBeUndefined();
    const [adopt] = single([], [app], [[app.id, { object: stored(app), noDryRun: note }]]);
    expect(adopt).toMatchObject({ action: 'adopt' });
    expect(adopt?.reason).toContain(note);
  });

  it('recreates what changes fields that cannot change in place, only where allowed', () => {
    const views: [string, LiveResource][] = [
      [app.id, { object: stored(app), immutableFields: ['spec.selector'] }],
    ];
    const [blocked] = single([prior(app)], [app], views);
    expect(blocked).toMatchObject({ action: 'recreate' });
    expect(blocked?.blocked).toContain(`${app.id}: spec.selector cannot change in place`);
    expect(blocked?.blocked).toContain('"kdeliver.io/recreate": "true"');
    expect(blocked?.blocked).toContain('--allow-recreate');

    const allowing = { ...app, extensions: { 'kdeliver.io/recreate': 'true' } };
    const [byExtension] = single([prior(allowing)], [allowing], views);
    expect(byExtension).toMatchObject({
      action: 'recreate',
      reason: 'spec.selector cannot change in place: deleted, then created again',
    });
    expect(byExtension?.blocked).toBeUndefined();

    const byOption = plan(new Map([prior(app)]), [app], new Map(views), { allowRecreate: true });
    expect(planBlockers(byOption)).toEqual([]);
    expect(planBlockers(plan(new Map([prior(app)]), [app], new Map(views)))).toHaveLength(1);
  });

  it('orders applies by the graph and deletes in reverse', () => {
    const ns = namespace('old');
    const settings = configMap('old', 'settings');
    const oldApp = deployment('old', 'app');
    const result = plan(
      new Map([prior(ns), prior(settings), prior(oldApp)]),
      [deployment('new', 'app'), namespace('new')],
      new Map(),
    );
    expect(result.apply.steps.map((step) => step.id)).toEqual([
      'v1:Namespace:new',
      'apps/v1:Deployment:new:app',
    ]);
    expect(result.delete.steps.map((step) => step.id)).toEqual([oldApp.id, settings.id, ns.id]);
    expect(result.delete.graph.dependsOn(ns.id, oldApp.id)).toBe(true);
    expect(result.delete.graph.dependsOn(ns.id, settings.id)).toBe(true);
  });
});

describe('plan: secrets in diffs', () => {
  const secret = (data: Record<string, string>, stringData?: Record<string, string>): SpecResource =>
    k8s('v1', 'Secret', 'shop', 'creds', { body: { data, ...(stringData ? { stringData } : {}) } });
  const base64 = (text: string): string => Buffer.from(text).toString('base64');

  it('masks values as a short hash of the decoded value and never shows clear text', () => {
    const before = secret({ password: base64('hunter2'), user: base64('admin') });
    const after = secret(
      { password: base64('correct horse'), user: base64('admin') },
      { token: 'tok-secret' },
    );
    const [step] = single(
      [prior(before)],
      [after],
      [[before.id, { object: stored(before), dryRun: stored(after) }]],
    );
    const diff = step?.diff ?? '';
    expect(step?.action).toBe('update');
    for (const clear of [
      'hunter2',
      'correct horse',
      'admin',
      'tok-secret',
      base64('hunter2'),
      base64('correct horse'),
      base64('admin'),
    ]) {
      expect(diff).not.toContain(clear);
    }
    // Quoted: a plain YAML scalar cannot start with `*`.
    const mark = (value: string): string => `"*** (sha256:${sha256Hex(value).slice(0, 8)}…)"`;
    expect(diff).toContain(`-  password: ${mark('hunter2')}`);
    expect(diff).toContain(`+  password: ${mark('correct horse')}`);
    expect(diff).toContain(`   user: ${mark('admin')}`);
    expect(diff).toContain(`+  token: ${mark('tok-secret')}`);
  });

  it('does not mask data of other kinds', () => {
    const before = configMap('shop', 'c', { body: { data: { mode: 'a' } } });
    const after = configMap('shop', 'c', { body: { data: { mode: 'b' } } });
    const [step] = single(
      [prior(before)],
      [after],
      [[before.id, { object: stored(before), dryRun: stored(after) }]],
    );
    expect(step?.diff).toContain('+  mode: b');
  });
});
