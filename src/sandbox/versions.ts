/** Versions of the sandbox's components; each keys its own cache directory. */
export const SANDBOX_VERSIONS = {
  kubernetes: 'v1.37.2',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
} as const;

/** Oldest Go that builds every component (Kubernetes 1.37's go.mod asks for 1.26). */
export const MINIMUM_GO = '1.26';
