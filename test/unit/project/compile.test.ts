import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecInvalidError } from '../../../src/engine/spec.ts';
import { compileStack, formatSpec } from '../../../src/kcl/project/compile.ts';
import { loadStack } from '../../../src/kcl/project/stack.ts';
import { tree } from './tree.ts';

/** A render program in the spirit of Konfig's: every `App` becomes a Namespace and a ConfigMap. */
const RENDER = `import manifests

_apps = [a for a in App.instances()]
_resources = [
    {
        id = "v1:Namespace:" + a.name
        type = "Kubernetes"
        attributes = {apiVersion = "v1", kind = "Namespace", metadata.name = a.name}
        dependsOn = []
    } for a in _apps
] + [
    {
        id = "v1:ConfigMap:" + a.name + ":" + a.name
        type = "Kubernetes"
        attributes = {
            apiVersion = "v1"
            kind = "ConfigMap"
            metadata = {name = a.name, namespace = a.name}
            data = {cluster = option("cluster"), env = option("env")}
        }
        dependsOn = a.dependsOn
        extensions = {owner = a.name}
    } for a in _apps
]
manifests.yaml_stream(_resources)
`;

function repo(main: string) {
  return tree({
    'kcl.mod': '[package]\nname = "demo"\n',
    'models/app.k': 'schema App:\n    name: str\n    dependsOn: [str] = ["v1:Namespace:" + name]\n',
    'models/render.k': `import models.app\n\nApp = app.App\n${RENDER}`,
    'demo/project.yaml': 'name: demo\n',
    'demo/dev/stack.yaml': 'name: dev\n',
    'demo/dev/kcl.yaml': 'kcl_cli_configs:\n  file:\n    - main.k\n    - ${KCL_MOD}/models/render.k\n',
    'demo/dev/ci-test/settings.yaml':
      'kcl_options:\n  - key: cluster\n    value: site-a\n  - key: env\n    value: "007"\n',
    'demo/dev/main.k': main,
  });
}

describe('compileStack', () => {
  it('runs the listed files in the stack directory with its options and reads the stream as resources', () => {
    const root = repo('import models.app\n\nshop = app.App {name = "shop"}\n');
    const { resources, specError } = compileStack(loadStack(join(root, 'demo', 'dev')));
    expect(specError).toBeUndefined();
    expect(resources).toEqual([
      // An empty dependsOn is left out, as Kusion's spec does.
      {
        id: 'v1:Namespace:shop',
        type: 'Kubernetes',
        attributes: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      },
      {
        id: 'v1:ConfigMap:shop:shop',
        type: 'Kubernetes',
        attributes: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'shop', namespace: 'shop' },
          // "007" in settings.yaml is a string and stays one.
          data: { cluster: 'site-a', env: '007' },
        },
        dependsOn: ['v1:Namespace:shop'],
        extensions: { owner: 'shop' },
      },
    ]);
    // Kusion's field order, whatever order the program used.
    expect(Object.keys(resources[1] as object)).toEqual([
      'id',
      'type',
      'attributes',
      'dependsOn',
      'extensions',
    ]);
  });

  it('lets -D arguments override the stack options', () => {
    const root = repo('import models.app\n\nshop = app.App {name = "shop"}\n');
    const { resources } = compileStack(loadStack(join(root, 'demo', 'dev')), { options: ['cluster=site-b'] });
    expect(resources[1]).toMatchObject({ attributes: { data: { cluster: 'site-b', env: '007' } } });
  });

  it('reports spec violations: duplicate ids and dependsOn targets that are not in the spec', () => {
    const root = repo(
      'import models.app\n\na = app.App {name = "shop"}\nb = app.App {name = "shop", dependsOn = ["v1:Secret:shop:db"]}\n',
    );
    const { specError } = compileStack(loadStack(join(root, 'demo', 'dev')));
    expect(specError).toBeInstanceOf(SpecInvalidError);
    expect(specError?.message).toMatch(/resource v1:Namespace:shop: id is not unique/);
    expect(specError?.message).toMatch(/dependsOn\[0\] names v1:Secret:shop:db, which is not in the spec/);
  });

  it('fails with the KCL diagnostic and its file:line:col when the program is wrong', () => {
    const root = repo('import models.app\n\nshop = app.App {name = 42}\n');
    const stack = loadStack(join(root, 'demo', 'dev'));
    expect(() => compileStack(stack)).toThrow(
      expect.objectContaining({
        code: 'KCL_COMPILE_FAILED',
        message: expect.stringContaining(`${join(root, 'demo', 'dev', 'main.k')}:3:`) as string,
      }) as Error,
    );
  });

  it('leaves empty lists out of attributes but keeps empty maps, as Kusion did (Konfig goldens)', () => {
    const root = tree({
      'kcl.mod': '[package]\nname = "demo"\n',
      'demo/project.yaml': 'name: demo\n',
      'demo/dev/stack.yaml': 'name: dev\n',
      'demo/dev/kcl.yaml': 'kcl_cli_configs:\n  file:\n    - main.k\n',
      'demo/dev/main.k': `import manifests

manifests.yaml_stream([{
    id = "v1:Pod:demo:p"
    type = "Kubernetes"
    attributes = {
        apiVersion = "v1", kind = "Pod", metadata = {name = "p", namespace = "demo"}
        spec.containers = [{name = "c", image = "x", volumeMounts = [], args = []}]
        spec.volumes = [{name = "v", emptyDir = {}}]
    }
}])
`,
    });
    const { resources } = compileStack(loadStack(join(root, 'demo', 'dev')));
    expect(resources).toEqual([
      {
        id: 'v1:Pod:demo:p',
        type: 'Kubernetes',
        attributes: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', namespace: 'demo' },
          spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'v', emptyDir: {} }] },
        },
      },
    ]);
  });
});

describe('formatSpec', () => {
  it('writes a YAML list of resources, or JSON', () => {
    const resources = [{ id: 'v1:Namespace:shop', type: 'Kubernetes', attributes: { kind: 'Namespace' } }];
    expect(formatSpec(resources, 'yaml')).toBe(
      '- id: v1:Namespace:shop\n  type: Kubernetes\n  attributes:\n    kind: Namespace\n',
    );
    expect(JSON.parse(formatSpec(resources, 'json'))).toEqual(resources);
    expect(formatSpec([], 'yaml')).toBe('[]\n');
  });
});
