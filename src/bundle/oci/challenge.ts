/**
 * Parses `WWW-Authenticate` headers (RFC 7235): a scheme followed by comma-separated
 * `name=value` parameters, where values may be quoted strings with backslash escapes.
 * Registries use `Basic realm="…"` or `Bearer realm="…",service="…",scope="…"`.
 */
export interface Challenge {
  /** Lowercased: "basic" or "bearer" for registries. */
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;

/** Every challenge in the header, in order; unparseable trailing text is ignored. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let position = 0;
  const skip = (pattern: RegExp) => {
    pattern.lastIndex = position;
    const match = pattern.exec(header);
    if (match) position += match[0].length;
    return match?.[0];
  };
  const token = () => {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(header);
    if (!match) return undefined;
    position += match[0].length;
    return match[0];
  };
  const quoted = () => {
    let value = '';
    position += 1; // opening quote
    while (position < header.length) {
      const char = header[position++]!;
      if (char === '"') return value;
      value += char === '\\' && position < header.length ? header[position++] : char;
    }
    return value;
  };

  for (;;) {
    skip(/[\s,]*/y);
    const scheme = token();
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      const start = position;
      skip(/[\s,]*/y);
      const name = token();
      skip(/\s*/y);
      if (!name || header[position] !== '=') {
        // Not a parameter: the start of the next challenge (or a token68 we do not use).
        position = start;
        break;
      }
      position += 1;
      skip(/\s*/y);
      // Unquoted values should be tokens; realms are URLs, so be lenient up to the next separator.
      const value = header[position] === '"' ? quoted() : (skip(/[^\s,]*/y) ?? '');
      challenge.params[name.toLowerCase()] = value;
    }
    if (position === header.length) break;
  }
  return challenges;
}
