/**
 * Compiles a Konfig stack to its spec as Kusion did: run the stack's files with the stack
 * directory as working directory and its options, read the YAML stream the render program
 * prints as the list of resources, and validate that list with the spec model.
 */
import { parseAllDocuments, stringify } from 'yaml';
import { SUPPORTED_RUNTIME_TYPES, SpecInvalidError, validateSpec } from '../../engine/spec.ts';
import { KdeliverError } from '../../errors.ts';
import type { DeclaredOption } from '../builtins/option.ts';
import { runKcl } from '../run.ts';
import type { KonfigStack } from './stack.ts';

/** Kusion's field order of a resource. */
const RESOURCE_FIELDS = ['id', 'type', 'attributes', 'dependsOn', 'extensions'];

/** Fields Kusion's spec omits when empty (`omitempty`). */
const OMITTED_WHEN_EMPTY = new Set(['dependsOn', 'extensions']);

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

export interface CompiledStack {
  /** The resources in the order the program printed them, fields in Kusion's order. */
  resources: unknown[];
  /** Why the result is not a valid spec, when it is not. */
  specError: SpecInvalidError | undefined;
  /** The options the program asked for (only calls that were evaluated are known). */
  options: DeclaredOption[];
}

export interface CompileRequest {
  /** `-D key=value` arguments; they override the stack's own options. */
  options?: readonly string[];
  /** File texts to use instead of the disk, by absolute path. */
  sources?: ReadonlyMap<string, string>;
}

/** An option as a `-D` argument; JSON keeps its type (a string `"007"` stays a string). */
export function optionArgument(name: string, value: unknown): string {
  return `${name}=${JSON.stringify(value)}`;
}

/** The stack's options as `-D` arguments. */
export function optionArguments(stack: KonfigStack): string[] {
  return stack.settings.options.map(([key, value]) => optionArgument(key, value));
}

/**
 * Kusion (with KCL v0.4.6) left empty lists out of a spec's attributes while keeping empty
 * maps (`volumeMounts: []` is absent from Konfig's goldens, `emptyDir: {}` is present).
 * Today's KCL prints empty lists, and the grammar suite needs that, so the old behaviour
 * lives here, in the spec layer, and nowhere else. The Kubernetes API treats an absent
 * list and an empty one alike, so applying either gives the same object.
 */
function withoutEmptyLists(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyLists);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => !(Array.isArray(field) && field.length === 0))
      .map(([key, field]) => [key, withoutEmptyLists(field)]),
  );
}

function inKusionOrder(item: unknown): unknown {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return item;
  const record = { ...(item as Record<string, unknown>) };
  if ('attributes' in record) record.attributes = withoutEmptyLists(record.attributes);
  const known = RESOURCE_FIELDS.filter(
    (key) => key in record && !(OMITTED_WHEN_EMPTY.has(key) && isEmpty(record[key])),
  );
  const rest = Object.keys(record).filter((key) => !RESOURCE_FIELDS.includes(key));
  return Object.fromEntries([...known, ...rest].map((key) => [key, record[key]]));
}

/** The resources of a YAML stream: one per document, or the items of a single list document. */
function resourcesOf(stdout: string, stack: KonfigStack): unknown[] {
  const documents = parseAllDocuments(stdout);
  const values: unknown[] = [];
  for (const document of Array.isArray(documents) ? documents : [documents]) {
    if (document.errors.length > 0) {
      throw new KdeliverError(
        'input',
        'STACK_OUTPUT_INVALID',
        `stack ${stack.path} printed invalid YAML: ${document.errors[0]!.message}`,
      );
    }
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) values.push(value);
  }
  const only = values.length === 1 ? values[0] : undefined;
  return Array.isArray(only) ? only : values;
}

export function compileStack(stack: KonfigStack, request: CompileRequest = {}): CompiledStack {
  const result = runKcl({
    files: stack.settings.files,
    cwd: stack.dir,
    options: [...optionArguments(stack), ...(request.options ?? [])],
    ...stack.settings.flags,
    ...(request.sources ? { sources: request.sources } : {}),
  });
  if (!result.ok) {
    throw new KdeliverError(
      'input',
      'KCL_COMPILE_FAILED',
      `stack ${stack.path} does not compile:\n${result.stderr.trimEnd()}`,
      {
        hint: 'Fix the KCL source at the position shown above, then compile again.',
      },
    );
  }
  const resources = resourcesOf(result.stdout, stack).map(inKusionOrder);
  let specError: SpecInvalidError | undefined;
  try {
    validateSpec(resources, `of stack ${stack.path}`, SUPPORTED_RUNTIME_TYPES);
  } catch (error) {
    if (!(error instanceof SpecInvalidError)) throw error;
    specError = error;
  }
  return { resources, specError, options: result.options };
}

/** The spec as text: a YAML list of resources, as Kusion writes it, or JSON. */
export function formatSpec(resources: readonly unknown[], format: 'yaml' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(resources, null, 2)}\n`;
  return resources.length === 0 ? '[]\n' : stringify(resources, { lineWidth: 0 });
}
