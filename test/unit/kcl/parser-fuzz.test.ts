import { describe, expect, it } from 'vitest';
import { KclDiagnostic } from '../../../src/kcl/diagnostics.ts';
import { parseModule } from '../../../src/kcl/parser.ts';

/** Small programs touching most of the grammar; mutated below to get broken input. */
const SAMPLES = [
  `import .lib.util as u

schema Base[prefix: str = "p"]:
    """A base."""
    mixin [u.NameMixin]
    @deprecated(version="1.0")
    name?: str = "\${prefix}-x"
    labels: {str:str} = {}
    [...str]: any
    check:
        len(name) > 0 if name, "name must not be empty"
        name not None

schema App(Base):
    replicas: int = 1
    image: "nginx" | "redis" = "nginx"
    if replicas > 1:
        labels |= {ha = "true"}

rule Small for P:
    replicas < 10

type Size = 1Ki | 2Gi
app: App {name = "web", replicas = 2}
`,
  `data = [
    1
    *others
    if enabled: 2
    elif fallback: 3
    else: 4
]
config = {
    a.b.c: 1
    d = [i * 2 for i in range(10) if i % 2 if i > 3]
    e += [x for x in data]
    **base
    if flag:
        f = "\${g: #json}"
    else:
        f = r"\\d+"
}
merged = {k: v for k, v in config if k}
check = all k, v in config { v if k }
`,
  `f = lambda x: int, y = 1 -> int {
    z = x + y
    if z > 0:
        z
    else:
        -z
}
g = lambda {cfg: {str:}} -> any {
    cfg?.a?[0][1:2:3]
}
h = f(1, y=2) if a is not None and b not in c else 0 ** 2 // 3
assert h >= 0, "negative"
s = """multi
line \\\${escaped} \${h}"""
t = x as App
u = not (a < b <= c) | d ^ e & f << 1 >> 2
`,
];

/** mulberry32: a tiny seeded PRNG so the mutations are the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(text: string, next: () => number): string {
  const at = (limit: number): number => Math.floor(next() * limit);
  const position = at(text.length);
  const length = 1 + at(12);
  switch (at(5)) {
    case 0: // delete a run
      return text.slice(0, position) + text.slice(position + length);
    case 1: // duplicate a run
      return (
        text.slice(0, position + length) +
        text.slice(position, position + length) +
        text.slice(position + length)
      );
    case 2: {
      // swap two characters
      const other = at(text.length);
      const chars = [...text];
      const a = chars[position] ?? '';
      chars[position] = chars[other] ?? '';
      chars[other] = a;
      return chars.join('');
    }
    case 3: // truncate
      return text.slice(0, position);
    default: {
      // insert a character that is special to KCL
      const specials = '([{}])"\'\\$#:=\t\n ,.?*@|';
      return text.slice(0, position) + (specials[at(specials.length)] ?? '') + text.slice(position);
    }
  }
}

describe('parser robustness', () => {
  it('parses every sample as written', () => {
    for (const sample of SAMPLES) expect(parseModule(sample, 'sample.k').kind).toBe('Module');
  });

  it('returns an AST or throws KclDiagnostic for mutated programs, never anything else', () => {
    const next = random(20240611);
    let diagnostics = 0;
    let parsed = 0;
    for (let round = 0; round < 600; round++) {
      let text = SAMPLES[round % SAMPLES.length] ?? '';
      const mutations = 1 + Math.floor(next() * 4);
      for (let i = 0; i < mutations; i++) text = mutate(text, next);
      try {
        expect(parseModule(text, 'fuzz.k').kind).toBe('Module');
        parsed++;
      } catch (error) {
        if (!(error instanceof KclDiagnostic)) {
          throw new Error(`unexpected ${String(error)} for input:\n${text}`, { cause: error });
        }
        expect(error.primary?.line).toBeGreaterThan(0);
        diagnostics++;
      }
    }
    // Both outcomes must occur, or the mutations are not exercising anything.
    expect(parsed).toBeGreaterThan(0);
    expect(diagnostics).toBeGreaterThan(0);
  });

  it('reports absurd nesting as a syntax error instead of overflowing the stack', () => {
    for (const text of [
      `a = ${'('.repeat(5000)}1${')'.repeat(5000)}\n`,
      `a = ${'-'.repeat(20000)}1\n`,
      `a = ${'[{'.repeat(3000)}\n`,
    ]) {
      expect(() => parseModule(text, 'deep.k')).toThrow(KclDiagnostic);
    }
  });
});
