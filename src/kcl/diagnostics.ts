import { readFileSync } from 'node:fs';
import { KdeliverError } from '../errors.ts';

/**
 * KCL errors and their rendering in the shape the official `kcl` tool prints, which the
 * conformance goldens compare against:
 *
 *   error[E1001]: InvalidSyntax
 *    --> /abs/main.k:2:5
 *     |
 *   2 | b = a = 2
 *     |     ^ expected one of ...
 *     |
 */

/** Error codes the official tool prints for each kind; newer kinds all share E1001. */
export const KCL_ERROR_CODES = {
  InvalidSyntax: 'E1001',
  IllegalParameterError: 'E1001',
  ImmutableError: 'E1001',
  NameError: 'E1001',
  IndexSignatureError: 'E1001',
  RecursiveLoad: 'E1001',
  IllegalAttributeError: 'E2A31',
  IllegalInheritError: 'E2D34',
  CannotFindModule: 'E2F04',
  TypeError: 'E2G22',
  CompileError: 'E2L23',
  EvaluationError: 'E3M38',
} as const;

export type KclErrorKind = keyof typeof KCL_ERROR_CODES;

/**
 * A message attached to a source position. Without a column the tool prints `:line:1`
 * and no caret (runtime errors and DEDENT positions look like this).
 */
export interface DiagnosticLabel {
  file: string;
  line: number;
  column: number | null;
  message: string;
}

/** One `error[...]` block. */
export interface DiagnosticEntry {
  code: string;
  kind: string;
  /** Shown under the source lines; the first is the primary position. */
  labels: DiagnosticLabel[];
  /** Printed after the header when there are no labels. */
  message?: string;
  /** `note: ...` lines. */
  notes?: string[];
  /** `suggestion: ...` lines. */
  suggestions?: string[];
}

/** Thrown for KCL source errors: one or more diagnostics, the first being the main one. */
export class KclDiagnostic extends Error {
  readonly entries: DiagnosticEntry[];

  constructor(entries: DiagnosticEntry | DiagnosticEntry[]) {
    const list = Array.isArray(entries) ? entries : [entries];
    const first = list[0];
    super(first ? summaryOf(first) : 'KCL error');
    this.name = 'KclDiagnostic';
    this.entries = list;
  }

  get kind(): string {
    return this.entries[0]?.kind ?? 'CompileError';
  }

  get code(): string {
    return this.entries[0]?.code ?? KCL_ERROR_CODES.CompileError;
  }

  /** The primary label, if the error has a position. */
  get primary(): DiagnosticLabel | undefined {
    return this.entries[0]?.labels[0];
  }

  /** The official multi-line rendering of every entry. */
  render(sources: SourceLookup = readSourceFromDisk): string {
    return renderDiagnostics(this.entries, sources);
  }

  /** For the CLI: an input error whose code names the KCL kind, e.g. `KCL_INVALID_SYNTAX`. */
  toKdeliverError(sources: SourceLookup = readSourceFromDisk): KdeliverError {
    return new KdeliverError('input', `KCL_${upperSnake(this.kind)}`, this.render(sources).trimEnd(), {
      hint: 'Fix the KCL source at the position shown.',
      cause: this,
    });
  }
}

/** A single-label diagnostic, the common case. */
export function kclError(kind: KclErrorKind, label: DiagnosticLabel, notes?: string[]): KclDiagnostic {
  return new KclDiagnostic({
    code: KCL_ERROR_CODES[kind],
    kind,
    labels: [label],
    ...(notes ? { notes } : {}),
  });
}

/** Returns the text of a source file, or undefined when it cannot be shown. */
export type SourceLookup = (file: string) => string | undefined;

/** Reads a source from disk; unreadable files render without source lines. */
export function readSourceFromDisk(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function renderDiagnostics(
  entries: DiagnosticEntry[],
  sources: SourceLookup = readSourceFromDisk,
): string {
  return entries.map((entry) => renderEntry(entry, sources)).join('');
}

function renderEntry(entry: DiagnosticEntry, sources: SourceLookup): string {
  const out: string[] = [`error[${entry.code}]: ${entry.kind}`];
  if (entry.labels.length === 0 && entry.message !== undefined) out.push(entry.message);
  for (const label of entry.labels) {
    // Each label block is sized by its own line number, as the official renderer does.
    const width = String(label.line).length;
    const blank = ' '.repeat(width + 1) + '|';
    out.push(`${' '.repeat(width)}--> ${label.file}:${label.line}:${label.column ?? 1}`);
    out.push(blank);
    const sourceLine = lineOf(sources(label.file), label.line);
    if (sourceLine !== undefined) out.push(`${label.line} | ${sourceLine}`);
    const marker =
      label.column === null || sourceLine === undefined
        ? ''
        : ' '.repeat(displayWidth(sourceLine.slice(0, label.column - 1))) + '^';
    out.push(label.message === '' ? `${blank} ${marker}` : `${blank} ${marker} ${label.message}`);
    out.push(blank);
  }
  for (const note of entry.notes ?? []) out.push(`note: ${note}`);
  for (const suggestion of entry.suggestions ?? []) out.push(`suggestion: ${suggestion}`);
  return out.join('\n') + '\n';
}

function lineOf(text: string | undefined, line: number): string | undefined {
  if (text === undefined) return undefined;
  let start = 0;
  for (let current = 1; current < line; current++) {
    const next = text.indexOf('\n', start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '');
}

/**
 * Terminal columns taken by `text`, counted as the official renderer does: control
 * characters (tabs included) take none, East Asian wide characters take two.
 */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) continue;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

function summaryOf(entry: DiagnosticEntry): string {
  const label = entry.labels[0];
  const message = label?.message ?? entry.message ?? '';
  return label
    ? `${entry.kind}: ${label.file}:${label.line}:${label.column ?? 1}: ${message}`
    : `${entry.kind}: ${message}`;
}

function upperSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
