import { describe, expect, it } from 'vitest';
import { createSystemModule, type ModuleContext } from '../../../src/kcl/modules/index.ts';
import { KclRuntimeError, KclSchema, dict, list, type KclValue } from '../../../src/kcl/values.ts';

const ctx: ModuleContext = { workdir: '/', modRoot: '/', currentFile: '/main.k', setStreamOutput: () => {} };

function call(member: string, positional: KclValue[]): KclValue {
  const fn = createSystemModule('template', ctx)?.members.get(member);
  if (!fn || typeof fn !== 'object' || fn.kind !== 'function') throw new Error(`no template.${member}`);
  return fn.call(positional, new Map());
}

const execute = (template: string, data?: KclValue) =>
  call('execute', data === undefined ? [template] : [template, data]);

describe('template module', () => {
  it('fills in values and drops standalone block lines', () => {
    const data = dict([
      ['author', true],
      ['firstName', 'Yehuda'],
      ['lastName', 'Katz'],
    ]);
    expect(
      execute('<div>\n{{#if author}}\n<h1>{{firstName}} {{lastName}}</h1>\n{{/if}}\n</div>\n', data),
    ).toBe('<div>\n<h1>Yehuda Katz</h1>\n</div>\n');
    expect(execute('  {{#if author}}  \nyes\n  {{/if}}', data)).toBe('yes\n');
    expect(execute('a {{#if author}}b{{/if}} c', data)).toBe('a b c');
    expect(execute('static {{missing}}')).toBe('static ');
  });

  it('escapes HTML unless output is raw', () => {
    const data = dict([['value', `<a href="x">'&'</a>`]]);
    expect(execute('{{value}}', data)).toBe('&lt;a href&#x3D;&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;');
    expect(execute('{{{value}}}', data)).toBe(`<a href="x">'&'</a>`);
    expect(execute('{{&value}}', data)).toBe(`<a href="x">'&'</a>`);
    expect(execute('{{raw value}}', data)).toBe(`<a href="x">'&'</a>`);
    expect(call('html_escape', ['<div class="a">&</div>'])).toBe(
      '&lt;div class&#x3D;&quot;a&quot;&gt;&amp;&lt;/div&gt;',
    );
  });

  it('branches with if, else, else if and unless', () => {
    const t = '{{#if a}}A{{else if b}}B{{else}}C{{/if}}|{{#unless a}}not a{{else}}a{{/unless}}';
    expect(execute(t, dict([['a', 1n]]))).toBe('A|a');
    expect(execute(t, dict([['b', 'x']]))).toBe('B|not a');
    expect(execute(t, dict([['a', list()]]))).toBe('C|not a');
    expect(execute('{{#if x}}yes{{^}}no{{/if}}', dict([['x', dict()]]))).toBe('yes');
  });

  it('iterates lists and dicts with this, @index, @key, @first, @last and ../', () => {
    const data = dict([
      ['title', 'T'],
      ['items', list(['a', 'b', 'c'])],
      [
        'ports',
        dict([
          ['http', 80n],
          ['https', 443n],
        ]),
      ],
      ['empty', list()],
    ]);
    expect(execute('{{#each items}}{{@index}}={{this}}{{#unless @last}},{{/unless}}{{/each}}', data)).toBe(
      '0=a,1=b,2=c',
    );
    expect(execute('{{#each ports}}{{#if @first}}[{{/if}}{{@key}}:{{.}} {{../title}}{{/each}}', data)).toBe(
      '[http:80 Thttps:443 T',
    );
    expect(execute('{{#each empty}}x{{else}}none{{/each}}', data)).toBe('none');
    expect(execute('{{#each items}}\n- {{this}}\n{{/each}}\n', data)).toBe('- a\n- b\n- c\n');
  });

  it('changes context with with, and follows dotted paths into dicts, schemas and lists', () => {
    const person = new KclSchema('Person', '__main__', new Map<string, KclValue>([['name', 'Alice']]));
    const data = dict([
      ['person', person],
      ['team', dict([['lead', dict([['name', 'Bob']])]])],
      ['tags', list(['x', 'y'])],
    ]);
    expect(execute('{{#with person}}{{name}} in {{@root.team.lead.name}}{{/with}}', data)).toBe(
      'Alice in Bob',
    );
    expect(execute('{{#with nobody}}x{{else}}nobody{{/with}}', data)).toBe('nobody');
    expect(execute('{{team.lead.name}} {{tags.1}} {{tags.length}} {{this.person.name}}', data)).toBe(
      'Bob y 2 Alice',
    );
  });

  it('prints values as Handlebars does', () => {
    const data = dict([
      ['i', 3n],
      ['f', 1.5],
      ['b', false],
      ['n', null],
      ['l', list([1n, 'x'])],
      ['d', dict([['k', 1n]])],
    ]);
    expect(execute('{{i}} {{f}} {{b}} [{{n}}] {{l}} {{d}}', data)).toBe('3 1.5 false [] [1, x] [object]');
  });

  it('supports comparison helpers, subexpressions and lookup', () => {
    const data = dict([
      ['n', 3n],
      ['s', 'b'],
      ['env', 'prod'],
      ['names', list(['zero', 'one'])],
      ['i', 1n],
    ]);
    expect(
      execute('{{#if (eq env "prod")}}P{{/if}}{{#if (gt n 2)}}G{{/if}}{{#if (lt s "a")}}L{{/if}}', data),
    ).toBe('PG');
    expect(
      execute('{{#if (and (gte n 3) (not (ne s "b")))}}ok{{/if}} {{len names}} {{lookup names i}}', data),
    ).toBe('ok 2 one');
    expect(execute('{{#if (or false 0 "")}}x{{else}}y{{/if}}', data)).toBe('y');
  });

  it('handles comments, escapes and whitespace control', () => {
    const data = dict([['x', 'X']]);
    expect(execute('a{{! note }}b{{!-- has }} inside --}}c', data)).toBe('abc');
    expect(execute('\\{{x}} {{x}}', data)).toBe('{{x}} X');
    expect(execute('a  {{~x~}}  b', data)).toBe('aXb');
    expect(execute('{{! comment }}\nline', data)).toBe('line');
  });

  it('reports malformed templates', () => {
    expect(() => execute('{{#if x}}open')).toThrow(KclRuntimeError);
    expect(() => execute('{{#if x}}a{{/each}}')).toThrow("'{{#if}}' is not closed by '{{/if}}'");
    expect(() => execute('{{/if}}')).toThrow(KclRuntimeError);
    expect(() => execute('{{x')).toThrow("unclosed '{{'");
    expect(() => execute('{{#loop x}}a{{/loop}}')).toThrow("block helper 'loop' is not defined");
    expect(() => execute('{{shout x}}')).toThrow("helper 'shout' is not defined");
  });
});
