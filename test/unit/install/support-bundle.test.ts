import { describe, expect, it } from 'vitest';
import {
  containerNames,
  inArchiveOrder,
  logEntryPath,
  pathSegment,
  podStatuses,
  redactedObject,
  resourceEntryPath,
  sortedEvents,
} from '../../../src/install/support-bundle/contents.ts';
import { digestOf } from '../../../src/state/secret-masking.ts';

describe('support bundle paths', () => {
  it('keeps Kubernetes names as they are', () => {
    expect(resourceEntryPath('prod', 'Deployment', 'shop', 'web-1.v2')).toBe(
      'resources/prod/Deployment/shop/web-1.v2.yaml',
    );
    expect(logEntryPath('shop', 'web-5d8f-x2', 'app')).toBe('logs/shop/web-5d8f-x2/app.log');
  });

  it('puts cluster-scoped objects under _cluster, which no namespace can be called', () => {
    expect(resourceEntryPath('prod', 'Namespace', undefined, 'shop')).toBe(
      'resources/prod/Namespace/_cluster/shop.yaml',
    );
  });

  it('percent-encodes what could climb out of a directory or differ between file systems', () => {
    expect(pathSegment('system:controller')).toBe('system%3Acontroller');
    expect(pathSegment('a/b')).toBe('a%2Fb');
    expect(pathSegment('..')).toBe('%2E%2E');
    expect(pathSegment('.')).toBe('%2E');
    expect(pathSegment('é')).toBe('%C3%A9');
    // Distinct names stay distinct: the escape character itself is escaped.
    expect(pathSegment('a%3Ab')).not.toBe(pathSegment('a:b'));
  });
});

describe('redactedObject', () => {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'db',
      namespace: 'shop',
      managedFields: [{ manager: 'kdeliver', fieldsV1: { 'f:data': { 'f:password': {} } } }],
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"password":"hunter2"}}',
      },
    },
    data: { password: Buffer.from('hunter2').toString('base64') },
    stringData: { token: 'abc123' },
  };

  it('replaces Secret values by digests and drops managedFields', () => {
    const redacted = redactedObject(secret);
    expect(redacted.data).toEqual({ password: digestOf('hunter2') });
    expect(redacted.stringData).toEqual({ token: digestOf('abc123') });
    expect(redacted.metadata).toEqual({
      name: 'db',
      namespace: 'shop',
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': digestOf('{"stringData":{"password":"hunter2"}}'),
      },
    });
    const text = JSON.stringify(redacted);
    for (const value of ['hunter2', 'abc123', secret.data.password]) expect(text).not.toContain(value);
  });

  it('keeps other objects whole apart from managedFields, and leaves the input alone', () => {
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', managedFields: [{ manager: 'kdeliver' }] },
      data: { mode: 'a' },
    };
    expect(redactedObject(configMap)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
      data: { mode: 'a' },
    });
    expect(configMap.metadata.managedFields).toHaveLength(1);
  });
});

describe('events and pods', () => {
  const event = (name: string, times: Record<string, unknown>) => ({
    metadata: { name, managedFields: [{}] },
    reason: name,
    ...times,
  });

  it('orders events by when they last happened, whatever field says it', () => {
    const sorted = sortedEvents([
      event('late', { lastTimestamp: '2026-01-01T00:00:09Z' }),
      event('scheduled', { eventTime: '2026-01-01T00:00:02.500000Z', lastTimestamp: null }),
      event('repeated', {
        lastTimestamp: '2026-01-01T00:00:01Z',
        series: { lastObservedTime: '2026-01-01T00:00:05.000000Z' },
      }),
      event('b-same', { lastTimestamp: '2026-01-01T00:00:01Z' }),
      event('a-same', { lastTimestamp: '2026-01-01T00:00:01Z' }),
    ]);
    expect(sorted.map((e) => e.reason)).toEqual(['a-same', 'b-same', 'scheduled', 'repeated', 'late']);
    expect(sorted.every((e) => !('managedFields' in (e.metadata as object)))).toBe(true);
  });

  it('keeps each pod name, node and status, not its spec', () => {
    const pod = {
      metadata: { name: 'web-1' },
      spec: {
        nodeName: 'node-1',
        initContainers: [{ name: 'migrate', env: [{ name: 'PASSWORD', value: 'literal' }] }],
        containers: [{ name: 'web' }, { name: 'sidecar' }],
      },
      status: { phase: 'Running' },
    };
    expect(podStatuses([{ metadata: { name: 'web-2' }, spec: {} }, pod])).toEqual([
      { name: 'web-1', node: 'node-1', status: { phase: 'Running' } },
      { name: 'web-2', node: undefined, status: undefined },
    ]);
    expect(containerNames(pod)).toEqual(['migrate', 'web', 'sidecar']);
  });
});

describe('inArchiveOrder', () => {
  it('puts bundle.json first and the rest by path, independent of the locale', () => {
    const paths = ['state.db', 'Z.txt', 'bundle.json', 'a.txt', 'events/ns.yaml'];
    expect(inArchiveOrder(paths.map((path) => ({ path, data: '' }))).map(({ path }) => path)).toEqual([
      'bundle.json',
      'Z.txt',
      'a.txt',
      'events/ns.yaml',
      'state.db',
    ]);
  });
});
