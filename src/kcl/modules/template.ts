/**
 * The `template` system module: a Handlebars-compatible renderer over KCL values.
 *
 * Supported: `{{path}}` (HTML-escaped), `{{{path}}}`, `{{&path}}` and `{{raw path}}` (verbatim),
 * comments, `\{{` escapes, `~` whitespace control, standalone block lines, the block helpers
 * `if` / `unless` / `each` / `with` with `{{else}}` (and `{{else if …}}` chains), paths with
 * `this`, `./`, `../`, `@root`, `@index`, `@key`, `@first`, `@last`, subexpressions, and the
 * inline helpers `lookup`, `eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `and`, `or`, `not`, `len`.
 */
import {
  KclDict,
  KclRuntimeError,
  configEntries,
  equals,
  formatFloat,
  formatUnitNumber,
  isConfig,
  isList,
  toStr,
  type KclModule,
  type KclValue,
} from '../values.ts';
import { defineModule } from './define.ts';

// ---------------------------------------------------------------------------------------
// Tokens and syntax tree

type Expr =
  | { kind: 'path'; data: boolean; up: number; parts: string[] }
  | { kind: 'literal'; value: KclValue }
  | { kind: 'call'; name: string; params: Expr[] };

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expr: Expr; escape: boolean }
  | { kind: 'block'; name: string; params: Expr[]; body: Node[]; inverse: Node[] };

type Token =
  | { kind: 'text'; text: string }
  | {
      kind: 'tag';
      /** `{` triple-stash, `&` unescaped, `!` comment, `#` open, `/` close, `else`, or `` plain. */
      type: string;
      body: string;
      stripBefore: boolean;
      stripAfter: boolean;
    };

function templateError(message: string): KclRuntimeError {
  return new KclRuntimeError(`template error: ${message}`);
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let text = '';
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) break;
    if (source[open - 1] === '\\') {
      text += source.slice(pos, open - 1) + '{{';
      pos = open + 2;
      continue;
    }
    text += source.slice(pos, open);
    const triple = source.startsWith('{{{', open);
    // `{{!-- … --}}` may contain `}}`, so it ends only at `--}}`.
    const closer = triple ? '}}}' : /^\{\{~?!--/.test(source.slice(open, open + 6)) ? '--}}' : '}}';
    const close = source.indexOf(closer, open + (triple ? 3 : 2));
    if (close < 0) throw templateError(`unclosed '{{' at offset ${open}`);
    let inner = source.slice(open + (triple ? 3 : 2), close + (closer === '--}}' ? 2 : 0));
    pos = close + closer.length;
    const stripBefore = inner.startsWith('~');
    if (stripBefore) inner = inner.slice(1);
    const stripAfter = inner.endsWith('~');
    if (stripAfter) inner = inner.slice(0, -1);
    if (text) tokens.push({ kind: 'text', text });
    text = '';
    tokens.push({ kind: 'tag', stripBefore, stripAfter, ...classify(inner, triple) });
  }
  text += source.slice(pos);
  if (text) tokens.push({ kind: 'text', text });
  return tokens;
}

function classify(inner: string, triple: boolean): { type: string; body: string } {
  if (triple) return { type: '{', body: inner.trim() };
  const first = inner[0] ?? '';
  if (first === '!' || first === '#' || first === '/' || first === '&') {
    return { type: first, body: inner.slice(1).trim() };
  }
  const trimmed = inner.trim();
  if (trimmed === '^') return { type: 'else', body: '' };
  if (/^else(\s|$)/.test(trimmed)) return { type: 'else', body: trimmed.slice(4).trim() };
  return { type: '', body: trimmed };
}

const STANDALONE_TYPES = new Set(['!', '#', '/', 'else']);

/**
 * Applies `~` and Handlebars' standalone rule: a block or comment tag alone on its line takes
 * the line's indentation and line break with it. Decisions use the original texts.
 */
function trimWhitespace(tokens: Token[]): Token[] {
  const original = tokens.map((t) => (t.kind === 'text' ? t.text : undefined));
  const texts = [...original];
  const setText = (i: number, edit: (s: string) => string) => {
    const t = texts[i];
    if (t !== undefined) texts[i] = edit(t);
  };
  tokens.forEach((token, i) => {
    if (token.kind !== 'tag') return;
    if (token.stripBefore) setText(i - 1, (s) => s.trimEnd());
    if (token.stripAfter) setText(i + 1, (s) => s.trimStart());
    if (!STANDALONE_TYPES.has(token.type)) return;
    const before = i === 0 ? '' : original[i - 1];
    const after = i === tokens.length - 1 ? '' : original[i + 1];
    const lineStart =
      before !== undefined && (/\n[ \t]*$/.test(before) || (i <= 1 && /^[ \t]*$/.test(before)));
    const lineEnd =
      after !== undefined &&
      (/^[ \t]*\r?\n/.test(after) || (i >= tokens.length - 2 && /^[ \t]*$/.test(after)));
    if (!lineStart || !lineEnd) return;
    setText(i - 1, (s) => s.replace(/[ \t]*$/, ''));
    setText(i + 1, (s) => s.replace(/^[ \t]*(\r?\n)?/, ''));
  });
  return tokens.map((t, i) => (t.kind === 'text' ? { kind: 'text', text: texts[i] ?? '' } : t));
}

// ---------------------------------------------------------------------------------------
// Expressions inside a tag

function splitWords(body: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      const end = body.indexOf(c, i + 1);
      if (end < 0) throw templateError(`unterminated string in '${body}'`);
      words.push(body.slice(i, end + 1));
      i = end + 1;
    } else if (c === '(') {
      let depth = 0;
      let j = i;
      for (; j < body.length; j++) {
        if (body[j] === '(') depth++;
        else if (body[j] === ')' && --depth === 0) break;
      }
      if (depth !== 0) throw templateError(`unbalanced parentheses in '${body}'`);
      words.push(body.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < body.length && !/[\s()]/.test(body[j] ?? '')) j++;
      words.push(body.slice(i, j));
      i = j;
    }
  }
  return words;
}

function parseOperand(word: string): Expr {
  if (word.startsWith('(')) {
    const [name, ...params] = splitWords(word.slice(1, -1));
    if (name === undefined) throw templateError('empty subexpression');
    return { kind: 'call', name, params: params.map(parseOperand) };
  }
  if (word.startsWith('"') || word.startsWith("'")) return { kind: 'literal', value: word.slice(1, -1) };
  if (/^-?\d+$/.test(word)) return { kind: 'literal', value: BigInt(word) };
  if (/^-?\d*\.\d+$/.test(word)) return { kind: 'literal', value: Number(word) };
  if (word === 'true' || word === 'false') return { kind: 'literal', value: word === 'true' };
  if (word === 'null' || word === 'undefined') return { kind: 'literal', value: null };
  return parsePath(word);
}

function parsePath(word: string): Expr {
  const data = word.startsWith('@');
  let rest = data ? word.slice(1) : word;
  let up = 0;
  while (rest.startsWith('../')) {
    up++;
    rest = rest.slice(3);
  }
  if (rest.startsWith('./')) rest = rest.slice(2);
  const parts = rest
    .split(/[./]/)
    .filter((p, i) => !(i === 0 && p === 'this') && p !== '')
    .map((p) => p.replace(/^\[(.*)\]$/, '$1'));
  return { kind: 'path', data, up, parts };
}

/** A tag body: a helper call when there are parameters or the name is a helper, else a path. */
function parseTagExpr(body: string): Expr {
  const [head, ...params] = splitWords(body);
  if (head === undefined) throw templateError('empty tag');
  if (params.length > 0 || INLINE_HELPERS.has(head)) {
    return { kind: 'call', name: head, params: params.map(parseOperand) };
  }
  return parseOperand(head);
}

// ---------------------------------------------------------------------------------------
// Parser

function parse(tokens: Token[]): Node[] {
  let pos = 0;

  /** Nodes up to a closing tag of `open` (or `else`), which is left unconsumed. */
  const parseNodes = (open: string | undefined): Node[] => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const token = tokens[pos]!;
      if (token.kind === 'text') {
        if (token.text) nodes.push({ kind: 'text', text: token.text });
        pos++;
        continue;
      }
      if (token.type === '/' || token.type === 'else') {
        if (open === undefined) throw templateError(`unexpected '{{${token.type}${token.body}}}'`);
        return nodes;
      }
      pos++;
      if (token.type === '!') continue;
      if (token.type === '#') nodes.push(parseBlock(token.body));
      else nodes.push({ kind: 'output', expr: parseTagExpr(token.body), escape: token.type === '' });
    }
    if (open !== undefined) throw templateError(`'{{#${open}}}' is not closed`);
    return nodes;
  };

  /**
   * A block from its opening tag's body. `closeName` is set for an `{{else if …}}` link, which
   * shares the closing tag of the block that started the chain and leaves it unconsumed.
   */
  const parseBlock = (body: string, closeName?: string): Node => {
    const [name, ...params] = splitWords(body);
    if (name === undefined) throw templateError('block without a helper name');
    const closing = closeName ?? name;
    const node: Node & { kind: 'block' } = {
      kind: 'block',
      name,
      params: params.map(parseOperand),
      body: parseNodes(closing),
      inverse: [],
    };
    const next = tokens[pos];
    if (next?.kind === 'tag' && next.type === 'else') {
      pos++;
      node.inverse = next.body ? [parseBlock(next.body, closing)] : parseNodes(closing);
    }
    if (closeName !== undefined) return node;
    const close = tokens[pos];
    if (close?.kind !== 'tag' || close.type !== '/' || close.body !== name) {
      throw templateError(`'{{#${name}}}' is not closed by '{{/${name}}}'`);
    }
    pos++;
    return node;
  };

  const nodes = parseNodes(undefined);
  if (pos < tokens.length) throw templateError('unexpected closing tag');
  return nodes;
}

// ---------------------------------------------------------------------------------------
// Rendering

interface Frame {
  /** The context chain, innermost last; `../` walks back through it. */
  contexts: KclValue[];
  data: Map<string, KclValue>;
}

function member(value: KclValue, key: string): KclValue {
  if (isConfig(value)) return configEntries(value).get(key) ?? null;
  if (isList(value) && /^\d+$/.test(key)) return value.items[Number(key)] ?? null;
  if (typeof value === 'string' && key === 'length') return BigInt([...value].length);
  if (isList(value) && key === 'length') return BigInt(value.items.length);
  return null;
}

function resolvePath(expr: Expr & { kind: 'path' }, frame: Frame): KclValue {
  let value: KclValue;
  let parts = expr.parts;
  if (expr.data) {
    const [head = '', ...tail] = parts;
    value = head === 'root' ? (frame.contexts[0] ?? null) : (frame.data.get(head) ?? null);
    parts = tail;
  } else {
    value = frame.contexts[Math.max(0, frame.contexts.length - 1 - expr.up)] ?? null;
  }
  for (const part of parts) value = member(value, part);
  return value;
}

/** Handlebars truthiness: empty strings, zero, empty lists, None and false are falsy. */
function isTruthy(v: KclValue): boolean {
  if (v === null || v === false || v === '' || v === 0n || v === 0) return false;
  if (typeof v === 'object' && v.kind === 'undefined') return false;
  return !isList(v) || v.items.length > 0;
}

function numberOf(v: KclValue): number | undefined {
  if (typeof v === 'bigint' || typeof v === 'number') return Number(v);
  if (typeof v === 'object' && v !== null && v.kind === 'unit') return v.value;
  return undefined;
}

/** `<` / `>` over two numbers or two strings; mixed kinds compare false. */
function ordered(a: KclValue, b: KclValue, test: (sign: number) => boolean): boolean {
  const x = numberOf(a);
  const y = numberOf(b);
  if (x !== undefined && y !== undefined) return test(Math.sign(x - y));
  if (typeof a === 'string' && typeof b === 'string') return test(a < b ? -1 : a > b ? 1 : 0);
  return false;
}

function lengthOf(v: KclValue): bigint {
  if (typeof v === 'string') return BigInt([...v].length);
  if (isList(v)) return BigInt(v.items.length);
  if (isConfig(v)) return BigInt(configEntries(v).size);
  return 0n;
}

const INLINE_HELPERS: ReadonlyMap<string, (args: KclValue[]) => KclValue> = new Map<
  string,
  (args: KclValue[]) => KclValue
>([
  ['raw', ([v = null]) => v],
  ['lookup', ([v = null, key = null]) => member(v, toStr(key))],
  ['eq', ([a = null, b = null]) => equals(a, b)],
  ['ne', ([a = null, b = null]) => !equals(a, b)],
  ['gt', ([a = null, b = null]) => ordered(a, b, (s) => s > 0)],
  ['gte', ([a = null, b = null]) => ordered(a, b, (s) => s >= 0)],
  ['lt', ([a = null, b = null]) => ordered(a, b, (s) => s < 0)],
  ['lte', ([a = null, b = null]) => ordered(a, b, (s) => s <= 0)],
  ['and', (args) => args.every(isTruthy)],
  ['or', (args) => args.some(isTruthy)],
  ['not', ([v = null]) => !isTruthy(v)],
  ['len', ([v = null]) => lengthOf(v)],
]);

function evaluate(expr: Expr, frame: Frame): KclValue {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'path':
      return resolvePath(expr, frame);
    case 'call': {
      const helper = INLINE_HELPERS.get(expr.name);
      if (!helper) throw templateError(`helper '${expr.name}' is not defined`);
      return helper(expr.params.map((p) => evaluate(p, frame)));
    }
  }
}

/** How a value prints: lists as `[a, b]`, dicts as `[object]`, None and Undefined as nothing. */
function display(v: KclValue): string {
  if (v === null) return '';
  switch (typeof v) {
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'number':
      return formatFloat(v);
    case 'boolean':
      return String(v);
  }
  switch (v.kind) {
    case 'undefined':
      return '';
    case 'list':
      return `[${v.items.map(display).join(', ')}]`;
    case 'dict':
    case 'schema':
      return '[object]';
    case 'unit':
      return formatUnitNumber(v);
    default:
      return toStr(v);
  }
}

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
};

function htmlEscape(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => HTML_ENTITIES[c] ?? c);
}

function renderBlock(node: Node & { kind: 'block' }, frame: Frame): string {
  const [arg = null] = node.params.map((p) => evaluate(p, frame));
  switch (node.name) {
    case 'if':
      return render(isTruthy(arg) ? node.body : node.inverse, frame);
    case 'unless':
      return render(isTruthy(arg) ? node.inverse : node.body, frame);
    case 'with':
      return isTruthy(arg)
        ? render(node.body, { contexts: [...frame.contexts, arg], data: frame.data })
        : render(node.inverse, frame);
    case 'each': {
      const entries: [KclValue, KclValue][] = isList(arg)
        ? arg.items.map((item, i) => [BigInt(i), item])
        : isConfig(arg)
          ? [...configEntries(arg)]
          : [];
      if (entries.length === 0) return render(node.inverse, frame);
      return entries
        .map(([key, item], i) => {
          const data = new Map(frame.data);
          data.set('index', BigInt(i));
          data.set('first', i === 0);
          data.set('last', i === entries.length - 1);
          data.set('key', key);
          return render(node.body, { contexts: [...frame.contexts, item], data });
        })
        .join('');
    }
    default:
      throw templateError(`block helper '${node.name}' is not defined`);
  }
}

function render(nodes: Node[], frame: Frame): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') {
      out += node.text;
    } else if (node.kind === 'block') {
      out += renderBlock(node, frame);
    } else {
      const text = display(evaluate(node.expr, frame));
      const verbatim = !node.escape || (node.expr.kind === 'call' && node.expr.name === 'raw');
      out += verbatim ? text : htmlEscape(text);
    }
  }
  return out;
}

export function renderTemplate(source: string, data: KclValue): string {
  const nodes = parse(trimWhitespace(tokenize(source)));
  return render(nodes, { contexts: [data], data: new Map() });
}

export function templateModule(): KclModule {
  return defineModule('template', {
    execute: (a) => renderTemplate(a.str(0, 'template'), a.get(1, 'data') ?? new KclDict()),
    html_escape: (a) => htmlEscape(a.str(0, 'data')),
  });
}
