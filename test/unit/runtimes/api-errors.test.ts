import { describe, expect, it } from 'vitest';
import { apiError } from '../../../src/runtimes/kubernetes/api-errors.ts';
import { resourcePath } from '../../../src/runtimes/kubernetes/discovery.ts';
import { ImmutableFieldsError } from '../../../src/runtimes/runtime.ts';

const status = (code: number, message: string, causes?: unknown[]) => ({
  status: code,
  body: { kind: 'Status', status: 'Failure', message, code, ...(causes ? { details: { causes } } : {}) },
});

describe('Kubernetes API errors', () => {
  it('turns a rejected object into an input error naming the resource and quoting the server', () => {
    const error = apiError(
      status(422, 'Deployment.apps "web" is invalid', [{ field: 'spec.replicas', message: 'must be >= 0' }]),
      'applying',
      'apps/v1:Deployment:shop:web',
    );
    expect(error).toMatchObject({ kind: 'input', code: 'K8S_OBJECT_INVALID' });
    expect(error.message).toBe(
      'applying apps/v1:Deployment:shop:web failed: Deployment.apps "web" is invalid (spec.replicas: must be >= 0)',
    );
  });

  it("treats server-side apply's 500 for an untypable object as invalid input", () => {
    const error = apiError(
      status(
        500,
        'failed to create typed patch object (/x; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema',
      ),
      'applying',
      'apps/v1:Deployment:default:x',
    );
    expect(error.kind).toBe('input');
    expect(error.message).toContain('.spec.replicaz: field not declared in schema');
  });

  it('maps conflicts, permissions and other failures to operation errors with hints', () => {
    expect(apiError(status(409, 'conflict'), 'applying', 'id')).toMatchObject({
      kind: 'operation',
      code: 'K8S_CONFLICT',
    });
    expect(apiError(status(403, 'forbidden'), 'applying', 'id')).toMatchObject({ code: 'K8S_FORBIDDEN' });
    const other = apiError({ status: 503, body: '<html>bad gateway</html>' }, 'reading', 'id');
    expect(other).toMatchObject({ kind: 'operation', code: 'K8S_API_ERROR' });
    expect(other.message).toBe('reading id failed: <html>bad gateway</html> (HTTP 503)');
    expect(other.hint).toBeTruthy();
  });
});

describe('immutable fields', () => {
  it('names the fields that cannot change, without the values the server quotes', () => {
    const error = apiError(
      status(
        422,
        'Deployment.apps "web" is invalid: spec.selector: Invalid value: {...}: field is immutable',
        [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.selector',
            message: 'Invalid value: {"matchLabels":{"app":"v2"}}: field is immutable',
          },
        ],
      ),
      'dry-run apply of',
      'apps/v1:Deployment:shop:web',
    );
    expect(error).toBeInstanceOf(ImmutableFieldsError);
    expect(error).toMatchObject({ kind: 'input', code: 'FIELD_IMMUTABLE', fields: ['spec.selector'] });
    expect(error.message).toBe(
      'dry-run apply of apps/v1:Deployment:shop:web failed: spec.selector: field is immutable',
    );
    expect(error.hint).toContain('--allow-recreate');
  });

  it('knows how Services and StatefulSets word it', () => {
    const service = apiError(
      status(422, 'Service "db" is invalid', [
        { field: 'spec.clusterIPs[0]', message: 'Invalid value: ["10.0.0.7"]: may not change once set' },
      ]),
      'applying',
      'v1:Service:shop:db',
    );
    expect(service).toMatchObject({ fields: ['spec.clusterIPs[0]'] });
    const statefulSet = apiError(
      status(422, 'StatefulSet.apps "db" is invalid', [
        {
          field: 'spec',
          message:
            "Forbidden: updates to statefulset spec for fields other than 'replicas', 'template' are forbidden",
        },
      ]),
      'applying',
      'apps/v1:StatefulSet:shop:db',
    );
    expect(statefulSet).toMatchObject({ code: 'FIELD_IMMUTABLE', fields: ['spec'] });
  });
});

describe('resource paths', () => {
  it('builds core, grouped, namespaced and cluster-scoped URLs', () => {
    const pods = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
    const crds = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      plural: 'customresourcedefinitions',
      namespaced: false,
    };
    expect(resourcePath(pods, 'shop', 'web-1')).toBe('/api/v1/namespaces/shop/pods/web-1');
    expect(resourcePath(pods, 'shop')).toBe('/api/v1/namespaces/shop/pods');
    expect(resourcePath(crds, 'ignored', 'widgets.example.com')).toBe(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com',
    );
  });
});
