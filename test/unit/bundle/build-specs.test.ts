import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadSpecs, parseSpecArgument } from '../../../src/bundle/build-specs.ts';
import { tempDir } from './fixtures.ts';

const namespace = {
  id: 'v1:Namespace:shop',
  type: 'Kubernetes',
  attributes: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
};
const config = {
  id: 'v1:ConfigMap:shop:web',
  type: 'Kubernetes',
  attributes: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'shop', name: 'web' } },
  dependsOn: ['v1:Namespace:shop'],
};

describe('parseSpecArgument', () => {
  it.each([
    ['shop.yaml', { stack: 'shop', path: 'shop.yaml' }],
    ['stacks/prod/shop.spec.json', { stack: 'shop.spec', path: 'stacks/prod/shop.spec.json' }],
    ['web=stacks/shop/spec.yaml', { stack: 'web', path: 'stacks/shop/spec.yaml' }],
    ['a=b=c.yaml', { stack: 'a', path: 'b=c.yaml' }],
  ])('reads %s', (text, expected) => {
    expect(parseSpecArgument(text)).toEqual(expected);
  });

  it('asks for an explicit name when the file name is not a plain one', () => {
    expect(() => parseSpecArgument('dir/.hidden')).toThrow(
      expect.objectContaining({ code: 'STACK_NAME_INVALID' }),
    );
  });
});

describe('loadSpecs', () => {
  it('keeps each spec byte for byte and describes its resources for the catalog', async () => {
    const dir = await tempDir();
    const yamlText = `# shop\n${stringify([namespace, config])}`;
    await writeFile(join(dir, 'shop.yaml'), yamlText);
    await writeFile(join(dir, 'ops.json'), JSON.stringify({ resources: [namespace] }));
    const loaded = await loadSpecs([
      { stack: 'shop', path: join(dir, 'shop.yaml') },
      { stack: 'ops', path: join(dir, 'ops.json') },
    ]);
    expect(loaded.specs).toEqual([
      { path: 'shop/spec.yaml', content: yamlText },
      { path: 'ops/spec.json', content: JSON.stringify({ resources: [namespace] }) },
    ]);
    expect(loaded.stacks[0]).toEqual({
      name: 'shop',
      validations: [],
      resources: [
        {
          id: namespace.id,
          kind: 'Namespace',
          namespace: null,
          dependsOn: [],
          specPath: 'specs/shop/spec.yaml',
        },
        {
          id: config.id,
          kind: 'ConfigMap',
          namespace: 'shop',
          dependsOn: ['v1:Namespace:shop'],
          specPath: 'specs/shop/spec.yaml',
        },
      ],
    });
    expect(loaded.resources.map((stack) => [stack.name, stack.resources.length])).toEqual([
      ['shop', 2],
      ['ops', 1],
    ]);
  });

  it('refuses two specs for one stack, a missing file, and an invalid spec', async () => {
    const dir = await tempDir();
    const path = join(dir, 'shop.yaml');
    await writeFile(path, stringify([{ ...config, dependsOn: ['v1:Namespace:gone'] }]));
    await expect(
      loadSpecs([
        { stack: 'shop', path },
        { stack: 'shop', path },
      ]),
    ).rejects.toMatchObject({ kind: 'usage', code: 'STACK_DUPLICATE' });
    await expect(loadSpecs([{ stack: 'x', path: join(dir, 'none.yaml') }])).rejects.toMatchObject({
      kind: 'input',
      code: 'SPEC_NOT_FOUND',
    });
    await expect(loadSpecs([{ stack: 'shop', path }])).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: expect.stringContaining('v1:Namespace:gone'),
    });
  });
});
