import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileStack } from '../../../src/kcl/project/compile.ts';
import { SCAFFOLD_STACKS, writeScaffold } from '../../../src/kcl/project/scaffold.ts';
import { loadStack } from '../../../src/kcl/project/stack.ts';
import { firstDifference } from '../../../src/kcl/project/unordered-equal.ts';
import { renderScaffoldModule, SCAFFOLD_MODULE } from '../../../templates/generate.ts';

function initialized(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'kdeliver-init-')), 'konfig');
  writeScaffold(dir);
  return dir;
}

/** Compiles a stack of a fresh scaffold whose main.k is replaced by `main`. */
function compileWithMain(stack: string, main: string) {
  const dir = initialized();
  writeFileSync(join(dir, stack, 'main.k'), `import models.app as m\n\n${main}\n`);
  return () => compileStack(loadStack(join(dir, stack)));
}

describe('kdeliver init scaffold', () => {
  it('embeds the current templates/konfig (run `node templates/generate.ts` after editing them)', async () => {
    expect(readFileSync(SCAFFOLD_MODULE, 'utf8')).toBe(await renderScaffoldModule());
  });

  it('has a dev and a prod stack', () => {
    expect(SCAFFOLD_STACKS.sort()).toEqual(['shop/dev', 'shop/prod']);
  });

  it.each(SCAFFOLD_STACKS)('compiles %s to a valid spec equal to its golden file', (stack) => {
    const dir = initialized();
    const { resources, specError } = compileStack(loadStack(join(dir, stack)));
    expect(specError).toBeUndefined();
    const golden: unknown = parseYaml(
      readFileSync(join(dir, stack, 'ci-test', 'stdout.golden.yaml'), 'utf8'),
    );
    expect(firstDifference(resources, golden)).toBeUndefined();
  });

  it('renders two apps, the dependent one after the other, with three images and delivery extensions', () => {
    const { resources } = compileStack(loadStack(join(initialized(), 'shop', 'prod')));
    const byId = new Map(
      (
        resources as {
          id: string;
          attributes: Record<string, unknown>;
          dependsOn?: string[];
          extensions?: unknown;
        }[]
      ).map((r) => [r.id, r]),
    );
    expect([...byId.keys()].filter((id) => id.startsWith('apps/v1:'))).toEqual([
      'apps/v1:StatefulSet:shop-prod:api',
      'apps/v1:Deployment:shop-prod:web',
    ]);
    expect(
      JSON.stringify(resources)
        .match(/registry\.example\/shop\/\w+:1\.0/g)
        ?.sort(),
    ).toEqual([
      'registry.example/shop/api:1.0',
      'registry.example/shop/web:1.0',
      'registry.example/shop/worker:1.0',
    ]);
    const web = byId.get('apps/v1:Deployment:shop-prod:web');
    expect(web?.dependsOn).toEqual(
      expect.arrayContaining(['apps/v1:StatefulSet:shop-prod:api', 'v1:Service:shop-prod:api']),
    );
    expect(web?.extensions).toEqual({
      kdeliver: {
        app: 'web',
        manualApprove: true,
        rollbackIfFailed: true,
        dependsOnApps: ['api'],
        policysets: { mandatory: [], advisory: ['pinned-image-digests'] },
        timeout: '5m',
      },
    });
    expect(byId.get('apps/v1:StatefulSet:shop-prod:api')?.dependsOn).toEqual([
      'v1:Namespace:shop-prod',
      'v1:ServiceAccount:shop-prod:api',
      'v1:Secret:shop-prod:api-db',
      'v1:PersistentVolumeClaim:shop-prod:api-orders',
    ]);
  });

  it.each([
    ['web: m.App {\n    replicas = -1\n}', 'app web: replicas must be 0 or more, not -1'],
    [
      'web: m.App {\n    exposure: {ports = [{port = 70000}]}\n}',
      'service port 70000 is out of range: use 1-65535',
    ],
    [
      'api: m.App {\n    replicas = 2\n}',
      'app api has persistent volumes, so it runs at most 1 replica, not 2',
    ],
    [
      'extra: m.App {\n    name = "extra"\n    namespace = "x"\n    containers = [{name = "c", image = ""}]\n}',
      'container c needs an image',
    ],
    [
      'web: m.App {\n    dependency = {dependedApps = ["db"]}\n}',
      "names apps this stack does not define: ['db']",
    ],
  ])('refuses %j with a readable message', (main, message) => {
    expect(compileWithMain('shop/dev', main)).toThrow(message);
  });

  it('refuses to write into a directory that is not empty', () => {
    const dir = initialized();
    expect(() => writeScaffold(dir)).toThrow(/already exists and is not empty/);
  });
});
