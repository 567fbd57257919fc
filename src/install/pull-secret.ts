/**
 * The image pull Secret a namespace needs when the site registry wants credentials. Its
 * value reaches only the cluster: the state layer stores Secret data as digests
 * (src/state/secret-masking.ts) and previews mask it (src/engine/object-diff.ts).
 */
import type { Credentials } from '../bundle/oci/docker-config.ts';
import { KUBERNETES_TYPE } from '../engine/kubernetes-id.ts';
import type { SpecResource } from '../runtimes/runtime.ts';

export const PULL_SECRET_NAME = 'kdeliver-registry';

export function pullSecretId(namespace: string): string {
  return `v1:Secret:${namespace}:${PULL_SECRET_NAME}`;
}

export function pullSecretResource(
  namespace: string,
  registry: string,
  credentials: Credentials,
  dependsOn: string[],
): SpecResource {
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  const config = {
    auths: { [registry]: { username: credentials.username, password: credentials.password, auth } },
  };
  return {
    id: pullSecretId(namespace),
    type: KUBERNETES_TYPE,
    attributes: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace, name: PULL_SECRET_NAME },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
    },
    ...(dependsOn.length > 0 ? { dependsOn } : {}),
  };
}
