/** The preflight checks by name, apart from their (heavy) implementation so that flags can list them. */
export const PREFLIGHT_CHECKS = ['api-server', 'rbac', 'registry', 'disk', 'storage-class'] as const;
export type PreflightCheckName = (typeof PREFLIGHT_CHECKS)[number];
