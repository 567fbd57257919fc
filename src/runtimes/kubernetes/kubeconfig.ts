import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KdeliverError, messageOf } from '../../errors.ts';

export interface KubeconfigOptions {
  /** An explicit kubeconfig file; otherwise `KUBECONFIG`, then ~/.kube/config (or in-cluster). */
  path?: string;
  /** A context of that kubeconfig; otherwise its current context. */
  context?: string;
}

/** Loads the kubeconfig the way kubectl does, failing with a user error when it is unusable. */
export function loadKubeconfig(options: KubeconfigOptions = {}): KubeConfig {
  const config = new KubeConfig();
  const source = options.path ?? process.env.KUBECONFIG ?? 'the default kubeconfig';
  try {
    if (options.path) {
      if (!existsSync(options.path)) throw new Error('no such file');
      config.loadFromFile(options.path);
    } else {
      config.loadFromDefault();
    }
  } catch (error) {
    throw new KdeliverError(
      'environment',
      'KUBECONFIG_UNREADABLE',
      `cannot load ${source}: ${messageOf(error)}`,
      {
        hint: 'Pass --kubeconfig, or set KUBECONFIG to a readable kubeconfig file.',
        cause: error,
      },
    );
  }
  if (options.context) {
    if (!config.getContextObject(options.context)) {
      const known = config.getContexts().map((context) => context.name);
      throw new KdeliverError(
        'environment',
        'KUBECONFIG_CONTEXT_UNKNOWN',
        `context "${options.context}" is not in ${source}`,
        { hint: `Use one of: ${known.join(', ') || '(no contexts)'}.` },
      );
    }
    config.setCurrentContext(options.context);
  }
  if (!config.getCurrentCluster()) {
    throw new KdeliverError('environment', 'KUBECONFIG_NO_CLUSTER', `${source} names no cluster to talk to`, {
      hint: 'Pass --kubeconfig and --context for the target cluster.',
    });
  }
  return config;
}
