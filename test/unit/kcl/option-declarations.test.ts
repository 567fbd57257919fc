import { describe, expect, it } from 'vitest';
import { runKcl } from '../../../src/kcl/run.ts';

const MAIN = '/virtual/main.k';

function declared(program: string, options: string[] = []) {
  const result = runKcl({ files: [MAIN], options, sources: new Map([[MAIN, program]]) });
  if (!result.ok) throw new Error(result.stderr);
  return result.options;
}

describe('runKcl options', () => {
  it('reports each option the program called, with its declaration and the value it was given', () => {
    const options = declared(
      [
        'domain = option("domain", type="str", required=True, help="Where the site is reached")',
        'replicas = option("replicas", default=2)',
        'again = option("replicas", type="int", required=False, help="Copies of each app")',
        'unused = option("never") if False else None',
        'plain = option("plain")',
      ].join('\n'),
      ['domain=shop.example', 'never=1'],
    );
    expect(options).toEqual([
      {
        name: 'domain',
        type: 'str',
        required: true,
        help: 'Where the site is reached',
        value: 'shop.example',
      },
      // Two calls merge: the first default, the type and help of the second.
      { name: 'replicas', type: 'int', required: false, help: 'Copies of each app', default: 2 },
      { name: 'plain', required: false },
    ]);
  });

  it('counts an option as required when any of its calls requires it', () => {
    const options = declared('a = option("env")\nb = option("env", required=True)\n', ['env=dev']);
    expect(options).toEqual([{ name: 'env', required: true, value: 'dev' }]);
  });
});
