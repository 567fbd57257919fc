import type { SpecResource } from '../../../src/runtimes/runtime.ts';

/** A Kubernetes spec resource whose id agrees with its attributes. */
export function k8s(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
  extra: Partial<SpecResource> & { body?: Record<string, unknown> } = {},
): SpecResource {
  const { body = {}, ...rest } = extra;
  const id = [apiVersion, kind, ...(namespace === undefined ? [] : [namespace]), name].join(':');
  const metadata = namespace === undefined ? { name } : { name, namespace };
  return { id, type: 'Kubernetes', attributes: { apiVersion, kind, metadata, ...body }, ...rest };
}

export const namespace = (name: string): SpecResource => k8s('v1', 'Namespace', undefined, name);
export const configMap = (ns: string, name: string, extra?: Parameters<typeof k8s>[4]): SpecResource =>
  k8s('v1', 'ConfigMap', ns, name, extra);
export const deployment = (ns: string, name: string, extra?: Parameters<typeof k8s>[4]): SpecResource =>
  k8s('apps/v1', 'Deployment', ns, name, extra);
export const service = (ns: string, name: string, extra?: Parameters<typeof k8s>[4]): SpecResource =>
  k8s('v1', 'Service', ns, name, extra);
