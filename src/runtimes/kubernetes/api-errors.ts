import { KdeliverError } from '../../errors.ts';
import { ImmutableFieldsError } from '../runtime.ts';
import type { KubeResponse } from './client.ts';

interface StatusCause {
  field?: string;
  message?: string;
}

/** How the API server words a field that cannot change once set (validation of each kind). */
const IMMUTABLE = /field is immutable|may not change once set|updates to \S+ spec for fields other than/;

/** The refused fields of a 422, each with the server's reason without the value it quotes. */
function immutableCauses(response: KubeResponse): { field: string; reason: string }[] {
  if (response.status !== 422 || !response.body || typeof response.body !== 'object') return [];
  const causes = (response.body as { details?: { causes?: StatusCause[] } }).details?.causes ?? [];
  return causes.flatMap(({ field, message }) => {
    const reason = message === undefined ? undefined : IMMUTABLE.exec(message)?.[0];
    return field !== undefined && reason !== undefined ? [{ field, reason }] : [];
  });
}

/** The API server's own words from a `Status` answer, including per-field causes. */
export function serverMessage(response: KubeResponse): string {
  const body = response.body;
  if (typeof body === 'string') return body.trim() || `HTTP ${response.status}`;
  if (!body || typeof body !== 'object') return `HTTP ${response.status}`;
  const status = body as { message?: string; reason?: string; details?: { causes?: StatusCause[] } };
  const message = status.message ?? status.reason ?? `HTTP ${response.status}`;
  const causes = (status.details?.causes ?? [])
    .map((cause) => [cause.field, cause.message].filter(Boolean).join(': '))
    .filter((cause) => cause && !message.includes(cause));
  return causes.length > 0 ? `${message} (${causes.join('; ')})` : message;
}

/**
 * A failed answer as a user error: what was attempted on which resource, and the server's
 * message. A rejected object (400/422) is a problem of the spec, so kind `input`; everything
 * else is a failed cluster operation.
 */
export function apiError(response: KubeResponse, action: string, resourceId: string): KdeliverError {
  const immutable = immutableCauses(response);
  if (immutable.length > 0) {
    const fields = [...new Set(immutable.map((cause) => cause.field))];
    const reasons = immutable.map((cause) => `${cause.field}: ${cause.reason}`);
    return new ImmutableFieldsError(
      `${action} ${resourceId} failed: ${[...new Set(reasons)].join('; ')}`,
      fields,
    );
  }
  const message = `${action} ${resourceId} failed: ${serverMessage(response)}`;
  // Server-side apply reports objects its schema cannot type as a 500.
  const untypable = response.status === 500 && message.includes('failed to create typed patch object');
  switch (untypable ? 422 : response.status) {
    case 400:
    case 422:
      return new KdeliverError('input', 'K8S_OBJECT_INVALID', message, {
        hint: 'Fix the resource in the Konfig so the API server accepts it, then rebuild the package.',
      });
    case 401:
      return new KdeliverError('operation', 'K8S_UNAUTHORIZED', message, {
        hint: 'The kubeconfig credentials were refused; renew them or use another context.',
      });
    case 403:
      return new KdeliverError('operation', 'K8S_FORBIDDEN', message, {
        hint: 'The kubeconfig user lacks permission for this; ask the cluster admin for the RBAC rights.',
      });
    case 404:
      return new KdeliverError('operation', 'K8S_NOT_FOUND', message, {
        hint: 'Something it depends on (its namespace, its CRD) is missing; check the spec order.',
      });
    case 409:
      return new KdeliverError('operation', 'K8S_CONFLICT', message, {
        hint: 'Another field manager owns these fields; rerun with --force-conflicts to take them over.',
      });
    default:
      return new KdeliverError('operation', 'K8S_API_ERROR', `${message} (HTTP ${response.status})`, {
        hint: 'Check the API server and its logs, then run the command again.',
      });
  }
}

export function isOk(response: KubeResponse): boolean {
  return response.status >= 200 && response.status < 300;
}
