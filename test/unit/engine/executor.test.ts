import { describe, expect, it } from 'vitest';
import { resourceDigest } from '../../../src/engine/canonical.ts';
import { execute, type ExecuteOptions, type ExecutionEvent } from '../../../src/engine/executor.ts';
import { MemoryJournal } from '../../../src/engine/journal.ts';
import { plan, type LiveResource, type PriorResource } from '../../../src/engine/planner.ts';
import type { SpecResource } from '../../../src/runtimes/runtime.ts';
import { FakeRuntime, ListingFakeRuntime } from './fake-runtime.ts';
import { configMap, deployment, k8s, namespace, service } from './resources.ts';

interface Setup {
  runtime: FakeRuntime;
  journal: MemoryJournal;
  events: ExecutionEvent[];
  options: ExecuteOptions;
}

function setup(overrides: Partial<ExecuteOptions> = {}): Setup {
  const runtime = new FakeRuntime();
  const journal = new MemoryJournal();
  const events: ExecutionEvent[] = [];
  const options: ExecuteOptions = {
    runtimes: new Map([['Kubernetes', runtime]]),
    journal,
    onEvent: (event) => events.push(event),
    pollIntervalMs: 1,
    ...overrides,
  };
  return { runtime, journal, events, options };
}

const creates = (resources: SpecResource[]) => plan(new Map(), resources, new Map());
const configMaps = (count: number): SpecResource[] =>
  Array.from({ length: count }, (_, index) => configMap('shop', `c${String(index).padStart(2, '0')}`));

describe('execute', () => {
  it('keeps at most the default 10 runtime calls in flight', async () => {
    const { runtime, options } = setup();
    runtime.latencyMs = 5;
    const result = await execute(creates(configMaps(25)), options);
    expect(result.succeeded).toBe(true);
    expect(runtime.idsOf('apply')).toHaveLength(25);
    expect(runtime.maxInFlight).toBe(10);
  });

  it('respects a lower concurrency limit', async () => {
    const { runtime, options } = setup({ concurrency: 3 });
    runtime.latencyMs = 5;
    await execute(creates(configMaps(12)), options);
    expect(runtime.maxInFlight).toBe(3);
  });

  it('limits runtime calls, not resources waiting for health', async () => {
    const { runtime, events, options } = setup({ concurrency: 3 });
    runtime.latencyMs = 1;
    const apps = Array.from({ length: 30 }, (_, index) => deployment('shop', `app${index}`));
    const progressing = { state: 'progressing' as const, message: 'rolling out' };
    for (const app of apps) {
      runtime.healthSequences.set(app.id, [
        progressing,
        progressing,
        progressing,
        progressing,
        { state: 'healthy' },
      ]);
    }
    const result = await execute(creates(apps), options);

    expect(result.succeeded).toBe(true);
    expect(runtime.idsOf('health')).toHaveLength(30 * 5);
    expect(runtime.maxInFlight).toBe(3);
    // Holding a slot through the wait would apply only 3 before the first is healthy.
    const firstHealthy = events.findIndex((event) => event.type === 'healthy');
    const applied = events.slice(0, firstHealthy).filter((event) => event.type === 'applied');
    expect(applied).toHaveLength(30);
  });

  it('skips the dependents of a failed resource and goes on with independent branches', async () => {
    const { runtime, events, options } = setup();
    const base = configMap('shop', 'base');
    const child = configMap('shop', 'child', { dependsOn: [base.id] });
    const grandchild = configMap('shop', 'grandchild', { dependsOn: [child.id] });
    const independent = configMap('shop', 'independent');
    runtime.failApply.add(base.id);
    const result = await execute(creates([base, child, grandchild, independent]), options);

    expect(result.succeeded).toBe(false);
    expect(result.outcomes.get(base.id)).toMatchObject({ status: 'failed', error: { code: 'APPLY_FAILED' } });
    expect(result.outcomes.get(base.id)?.error?.message).toBe(
      `${base.id}: apply failed: admission webhook denied ${base.id}`,
    );
    for (const id of [child.id, grandchild.id]) {
      expect(result.outcomes.get(id)).toMatchObject({
        status: 'skipped',
        reason: `dependency ${base.id} failed`,
      });
    }
    expect(result.outcomes.get(independent.id)?.status).toBe('succeeded');
    expect(runtime.idsOf('apply').sort()).toEqual([base.id, independent.id]);
    expect(events).toContainEqual({ type: 'skipped', id: child.id, reason: `dependency ${base.id} failed` });
    expect(events.filter((event) => event.type === 'failed').map((event) => event.id)).toEqual([base.id]);
  });

  it('waits for health, reporting progress, before starting dependents', async () => {
    const { runtime, events, options } = setup();
    const web = deployment('shop', 'web');
    const after = configMap('shop', 'after', { dependsOn: [web.id] });
    runtime.healthSequences.set(web.id, [
      { state: 'progressing', message: '0/2 replicas ready' },
      { state: 'progressing', message: '1/2 replicas ready' },
      { state: 'healthy' },
    ]);
    await execute(creates([web, after]), options);
    const forWeb = events.filter((event) => event.id === web.id).map((event) => event.type);
    expect(forWeb).toEqual(['start', 'applied', 'waiting', 'waiting', 'healthy']);
    const webPolls = runtime.calls.filter((call) => call.method === 'health' && call.id === web.id);
    expect(webPolls).toHaveLength(3);
    const afterApplied = runtime.calls.findIndex((call) => call.method === 'apply' && call.id === after.id);
    expect(afterApplied).toBeGreaterThan(runtime.calls.lastIndexOf(webPolls[2] as (typeof webPolls)[number]));
  });

  it('without waitForHealth, counts a resource done once applied and starts its dependents then', async () => {
    const { runtime, journal, events, options } = setup({ waitForHealth: false });
    const web = deployment('shop', 'web');
    const after = configMap('shop', 'after', { dependsOn: [web.id] });
    runtime.healthSequences.set(web.id, [{ state: 'progressing', message: '0/2 replicas ready' }]);
    const result = await execute(creates([web, after]), options);
    expect(result.succeeded).toBe(true);
    expect(runtime.idsOf('health')).toEqual([]);
    expect(runtime.idsOf('apply')).toEqual([web.id, after.id]);
    expect(events.filter((event) => event.id === web.id)).toEqual([
      { type: 'start', id: web.id, action: 'create' },
      { type: 'applied', id: web.id, final: true },
    ]);
    expect(journal.entries.map((entry) => `${entry.event} ${entry.step.operation}`)).toEqual([
      'begin apply',
      'end apply',
      'begin apply',
      'end apply',
    ]);
    expect(result.outcomes.get(web.id)?.live).toBeDefined();
  });

  it('judges health first on the object the apply returned, reading only to poll again', async () => {
    const { runtime, options } = setup();
    const web = deployment('shop', 'web');
    runtime.healthSequences.set(web.id, [
      { state: 'progressing', message: 'rolling out' },
      { state: 'healthy' },
    ]);
    const result = await execute(creates([configMap('shop', 'settings'), web]), options);
    expect(result.succeeded).toBe(true);
    expect(runtime.idsOf('read')).toEqual([web.id]);
  });

  it('reads the polls of waits that come due together in one round', async () => {
    const runtime = new ListingFakeRuntime();
    const { options } = setup({ runtimes: new Map([['Kubernetes', runtime]]), pollIntervalMs: 50 });
    const apps = Array.from({ length: 10 }, (_, index) => deployment('shop', `app${index}`));
    const progressing = { state: 'progressing' as const, message: 'rolling out' };
    for (const app of apps)
      runtime.healthSequences.set(app.id, [progressing, progressing, { state: 'healthy' }]);
    const result = await execute(creates(apps), options);
    expect(result.succeeded).toBe(true);
    expect(runtime.idsOf('read')).toEqual([]);
    expect(runtime.idsOf('readAll')).toHaveLength(20);
    expect(runtime.rounds.length).toBeLessThan(10);
  });

  it('fails a resource the runtime reports unhealthy, and skips its dependents', async () => {
    const { runtime, options } = setup();
    const job = deployment('shop', 'migrate');
    const app = configMap('shop', 'app', { dependsOn: [job.id] });
    runtime.healthSequences.set(job.id, [{ state: 'failed', message: 'CrashLoopBackOff' }]);
    const result = await execute(creates([job, app]), options);
    expect(result.outcomes.get(job.id)?.error).toMatchObject({
      code: 'RESOURCE_UNHEALTHY',
      message: `${job.id} is unhealthy: CrashLoopBackOff`,
    });
    expect(result.outcomes.get(app.id)?.status).toBe('skipped');
  });

  it('times out by the default timeout or the resource’s own', async () => {
    const { runtime, options } = setup({ defaultTimeoutMs: 30, pollIntervalMs: 5 });
    const slow = deployment('shop', 'slow');
    const patient = deployment('shop', 'patient', { extensions: { kdeliver: { timeout: '5s' } } });
    const progressing = { state: 'progressing' as const, message: 'waiting for rollout' };
    runtime.healthSequences.set(slow.id, [progressing]);
    runtime.healthSequences.set(patient.id, [
      ...Array.from({ length: 20 }, () => progressing),
      { state: 'healthy' as const },
    ]);
    const result = await execute(creates([slow, patient]), options);
    expect(result.outcomes.get(slow.id)?.error).toMatchObject({
      code: 'HEALTH_TIMEOUT',
      message: `${slow.id} was not healthy after 30ms: waiting for rollout`,
    });
    expect(result.outcomes.get(patient.id)?.status).toBe('succeeded');
  });

  it('resolves references from the live objects of applied dependencies', async () => {
    const { runtime, options } = setup();
    const web = service('shop', 'web');
    const settings = configMap('shop', 'settings', {
      body: {
        data: {
          url: `http://$kusion_path.${web.id}.spec.clusterIP:80`,
          ip: `$kusion_path.${web.id}.spec.clusterIP`,
        },
      },
    });
    runtime.serverFields.set(web.id, { spec: { clusterIP: '10.96.0.7' } });
    const result = await execute(creates([settings, web]), options);
    const applied = runtime.calls.find((call) => call.method === 'apply' && call.id === settings.id);
    expect(applied?.resource.attributes.data).toEqual({ url: 'http://10.96.0.7:80', ip: '10.96.0.7' });
    expect(result.outcomes.get(settings.id)?.applied?.attributes.data).toEqual(
      applied?.resource.attributes.data,
    );
  });

  it('resolves references to unchanged resources from their live object without applying them', async () => {
    const { runtime, events, options } = setup();
    const web = service('shop', 'web');
    const settings = configMap('shop', 'settings', {
      body: { data: { ip: `$kusion_path.${web.id}.spec.clusterIP` } },
    });
    const live = { ...web.attributes, spec: { clusterIP: '10.96.0.9' } };
    const prior = new Map<string, PriorResource>([[web.id, { resource: web, digest: resourceDigest(web) }]]);
    const views = new Map<string, LiveResource>([[web.id, { object: live, dryRun: live }]]);
    await execute(plan(prior, [web, settings], views), options);
    expect(runtime.idsOf('apply')).toEqual([settings.id]);
    expect(runtime.calls[0]?.resource.attributes.data).toEqual({ ip: '10.96.0.9' });
    expect(events).toContainEqual({ type: 'unchanged', id: web.id });
  });

  it('fails a resource whose reference is not set on the live object', async () => {
    const { options } = setup();
    const web = service('shop', 'web');
    const settings = configMap('shop', 'settings', {
      body: { data: { ip: `$kusion_path.${web.id}.spec.clusterIP` } },
    });
    const result = await execute(creates([web, settings]), options);
    expect(result.outcomes.get(settings.id)?.error).toMatchObject({ code: 'REFERENCE_UNRESOLVED' });
  });

  it('takes over conflicting fields only when adopting', async () => {
    const { runtime, options } = setup();
    const mine = configMap('shop', 'mine');
    const found = configMap('shop', 'found');
    const live = new Map<string, LiveResource>([
      [found.id, { object: found.attributes, dryRun: found.attributes }],
    ]);
    await execute(plan(new Map(), [mine, found], live), options);
    const forced = runtime.calls
      .filter((call) => call.method === 'apply')
      .map((call) => [call.id, call.options?.forceConflicts]);
    expect(forced.sort()).toEqual([
      [found.id, true],
      [mine.id, false],
    ]);
  });

  it('deletes in reverse dependency order after the applies', async () => {
    const { runtime, events, options } = setup({ concurrency: 10 });
    runtime.latencyMs = 2;
    const ns = namespace('old');
    const settings = configMap('old', 'settings');
    const app = deployment('old', 'app');
    const gone = configMap('old', 'gone');
    const kept = configMap('shop', 'kept');
    const prior = new Map<string, PriorResource>(
      [ns, settings, app, gone].map((resource) => [
        resource.id,
        { resource, digest: resourceDigest(resource) },
      ]),
    );
    const views = new Map<string, LiveResource>(
      [ns, settings, app].map((resource) => [resource.id, { object: resource.attributes }]),
    );
    const result = await execute(plan(prior, [kept], views), options);
    expect(result.succeeded).toBe(true);
    expect(runtime.idsOf('delete')).toEqual([app.id, settings.id, ns.id]);
    expect(runtime.calls.findIndex((call) => call.method === 'delete')).toBeGreaterThan(
      runtime.calls.findIndex((call) => call.method === 'apply'),
    );
    expect(result.outcomes.get(gone.id)).toMatchObject({ action: 'forget', status: 'succeeded' });
    expect(events).toContainEqual({ type: 'forgotten', id: gone.id });
  });

  it('skips a delete’s successors when it fails', async () => {
    const { runtime, options } = setup();
    const ns = namespace('old');
    const settings = configMap('old', 'settings');
    runtime.failDelete.add(settings.id);
    const prior = new Map<string, PriorResource>(
      [ns, settings].map((resource) => [resource.id, { resource, digest: resourceDigest(resource) }]),
    );
    const views = new Map<string, LiveResource>(
      [ns, settings].map((resource) => [resource.id, { object: resource.attributes }]),
    );
    const result = await execute(plan(prior, [], views), options);
    expect(result.outcomes.get(settings.id)?.error?.code).toBe('DELETE_FAILED');
    expect(result.outcomes.get(ns.id)?.status).toBe('skipped');
    expect(runtime.idsOf('delete')).toEqual([settings.id]);
  });

  it('does not delete anything when an apply failed', async () => {
    const { runtime, options } = setup();
    const broken = configMap('shop', 'broken');
    const old = configMap('shop', 'old');
    runtime.failApply.add(broken.id);
    const result = await execute(
      plan(
        new Map([[old.id, { resource: old, digest: resourceDigest(old) }]]),
        [broken],
        new Map([[old.id, { object: old.attributes }]]),
      ),
      options,
    );
    expect(runtime.idsOf('delete')).toEqual([]);
    expect(result.outcomes.get(old.id)).toMatchObject({
      status: 'skipped',
      reason: 'the apply phase did not complete',
    });
  });

  it('journals begin and end around every step, in order', async () => {
    const { journal, options } = setup();
    const ns = namespace('shop');
    const settings = configMap('shop', 'settings');
    await execute(creates([settings, ns]), options);
    expect(journal.entries.map((entry) => `${entry.event} ${entry.step.operation} ${entry.step.id}`)).toEqual(
      [
        `begin apply ${ns.id}`,
        `end apply ${ns.id}`,
        `begin wait ${ns.id}`,
        `end wait ${ns.id}`,
        `begin apply ${settings.id}`,
        `end apply ${settings.id}`,
        `begin wait ${settings.id}`,
        `end wait ${settings.id}`,
      ],
    );
    const ends = journal.entries.flatMap((entry) => (entry.event === 'end' ? [entry.result.status] : []));
    expect(ends).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  });

  it('recreates by deleting, then applying, each journaled as its own step', async () => {
    const { runtime, journal, events, options } = setup();
    const job = deployment('shop', 'migrate');
    await runtime.apply(job);
    runtime.calls.length = 0;
    const live = new Map<string, LiveResource>([
      [job.id, { object: job.attributes, immutableFields: ['spec.template'] }],
    ]);
    const prior = new Map<string, PriorResource>([[job.id, { resource: job, digest: 'sha256:old' }]]);
    const result = await execute(plan(prior, [job], live, { allowRecreate: true }), options);
    expect(result.outcomes.get(job.id)).toMatchObject({ action: 'recreate', status: 'succeeded' });
    expect(runtime.calls.map((call) => call.method).slice(0, 2)).toEqual(['delete', 'apply']);
    expect(journal.entries.map((entry) => `${entry.event} ${entry.step.operation}`)).toEqual([
      'begin delete',
      'end delete',
      'begin apply',
      'end apply',
      'begin wait',
      'end wait',
    ]);
    expect(events.map((event) => event.type)).toEqual(['start', 'applied', 'healthy']);
  });

  it('reports and journals failures with the Secret values of the plan redacted', async () => {
    const { runtime, journal, events, options } = setup();
    const creds = k8s('v1', 'Secret', 'shop', 'creds', { body: { stringData: { password: 's3cr3t-pw' } } });
    runtime.refusals.set(creds.id, new Error('Invalid value: []interface {}{"s3cr3t-pw"}'));
    const result = await execute(creates([creds]), options);
    const message = `${creds.id}: apply failed: Invalid value: []interface {}{"***"}`;
    expect(result.outcomes.get(creds.id)?.error?.message).toBe(message);
    expect(journal.entries.at(-1)).toMatchObject({ event: 'end', result: { error: message } });
    expect(JSON.stringify(events)).not.toContain('s3cr3t-pw');
  });

  it('journals a failed apply as begun and ended with the error', async () => {
    const { runtime, journal, options } = setup();
    const broken = configMap('shop', 'broken');
    runtime.failApply.add(broken.id);
    await execute(creates([broken]), options);
    expect(journal.entries).toEqual([
      { event: 'begin', step: expect.objectContaining({ operation: 'apply', id: broken.id }) },
      {
        event: 'end',
        step: expect.objectContaining({ operation: 'apply', id: broken.id }),
        result: {
          status: 'failed',
          error: `${broken.id}: apply failed: admission webhook denied ${broken.id}`,
        },
      },
    ]);
  });

  it('stops when the journal cannot be written', async () => {
    const { runtime, options } = setup({ concurrency: 1 });
    const journal = new MemoryJournal();
    let writes = 0;
    options.journal = {
      begin: (step) => {
        writes += 1;
        if (writes > 1) throw new Error('disk full');
        journal.begin(step);
      },
      end: (step, result) => journal.end(step, result),
    };
    await expect(execute(creates(configMaps(3)), options)).rejects.toMatchObject({
      code: 'JOURNAL_FAILED',
      message: 'could not record the wait of v1:ConfigMap:shop:c00: disk full',
    });
    expect(runtime.idsOf('apply')).toEqual(['v1:ConfigMap:shop:c00']);
  });

  it('stops scheduling once aborted', async () => {
    const controller = new AbortController();
    const { runtime, events, options } = setup({ concurrency: 2, signal: controller.signal });
    runtime.latencyMs = 20;
    options.onEvent = (event) => {
      events.push(event);
      if (event.type === 'start') controller.abort();
    };
    const result = await execute(creates(configMaps(6)), options);
    expect(result.aborted).toBe(true);
    expect(result.succeeded).toBe(false);
    expect(runtime.idsOf('apply')).toEqual(['v1:ConfigMap:shop:c00']);
    expect(result.outcomes.get('v1:ConfigMap:shop:c00')?.error?.code).toBe('INTERRUPTED');
    for (const index of [1, 2, 3, 4, 5]) {
      expect(result.outcomes.get(`v1:ConfigMap:shop:c0${index}`)).toMatchObject({
        status: 'skipped',
        reason: 'aborted',
      });
    }
  });

  it('refuses a plan with a resource type it has no runtime for', async () => {
    const { options } = setup();
    const database = { id: 'db', type: 'Terraform', attributes: {} };
    await expect(execute(creates([database]), options)).rejects.toMatchObject({ code: 'RUNTIME_MISSING' });
  });
});
