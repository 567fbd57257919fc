import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { KdeliverError, messageOf } from '../errors.ts';
import type { SpecResource } from '../runtimes/runtime.ts';
import { isPlainObject } from './canonical.ts';
import { TIMEOUT_FIELD, parseDuration, timeoutSetting } from './extensions.ts';
import { KUBERNETES_TYPE, declaredIdentity, parseKubernetesId } from './kubernetes-id.ts';
import { ReferenceScanner, attributeStrings } from './references.ts';

/** The runtimes kdeliver applies; a spec naming any other `type` is refused. */
export const SUPPORTED_RUNTIME_TYPES: ReadonlySet<string> = new Set([KUBERNETES_TYPE]);

/** A spec that passed validation: resources in the order the file lists them. */
export interface Spec {
  readonly resources: readonly SpecResource[];
}

/** Every problem of a spec at once; each violation names the resource id and field. */
export class SpecInvalidError extends KdeliverError {
  readonly violations: readonly KdeliverError[];

  constructor(source: string, violations: readonly KdeliverError[]) {
    const lines = violations.map((violation) => `  - ${violation.message}`).join('\n');
    const count = violations.length === 1 ? '1 problem' : `${violations.length} problems`;
    super('input', 'SPEC_INVALID', `spec ${source} has ${count}:\n${lines}`, {
      hint: 'Fix the resources named above in the Konfig stack, then build the spec again.',
    });
    this.violations = violations;
  }
}

const RESOURCE_SCHEMA = {
  type: 'object',
  required: ['id', 'type', 'attributes'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1 },
    type: { type: 'string', minLength: 1 },
    attributes: { type: 'object' },
    dependsOn: { type: 'array', items: { type: 'string' } },
    extensions: { type: 'object' },
  },
};

const validateShape = new Ajv({ allErrors: true }).compile<SpecResource>(RESOURCE_SCHEMA);

/** Parses a spec file's text (YAML or JSON) and validates it; throws SpecInvalidError. */
export function parseSpec(text: string, source: string, knownTypes: ReadonlySet<string>): Spec {
  let document: unknown;
  try {
    document = parseJsonOrYaml(text);
  } catch (error) {
    throw new KdeliverError(
      'input',
      'SPEC_SYNTAX',
      `spec ${source} is not valid YAML or JSON: ${messageOf(error)}`,
      {
        hint: 'Build the spec again from the Konfig stack.',
        cause: error,
      },
    );
  }
  return validateSpec(document, source, knownTypes);
}

/**
 * JSON is YAML, but a YAML parser reads a large JSON spec about ten times slower than
 * JSON.parse: text that parses as JSON is taken as such (duplicate keys then keep the last
 * value, as in JSON), anything else is read as YAML, whose errors say where the text is wrong.
 */
function parseJsonOrYaml(text: string): unknown {
  if (/^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // Flow-style YAML, or broken JSON that YAML's error will locate.
    }
  }
  return parse(text);
}

/**
 * Validates a parsed spec: a list of resources, or an object whose `resources` is that list
 * (the shape Kusion writes). Collects every violation before throwing.
 */
export function validateSpec(document: unknown, source: string, knownTypes: ReadonlySet<string>): Spec {
  const items = isPlainObject(document) && 'resources' in document ? document.resources : document;
  if (!Array.isArray(items)) {
    throw new SpecInvalidError(source, [
      violation('SPEC_SHAPE', 'the spec must be a list of resources, or an object with a `resources` list'),
    ]);
  }

  const violations: KdeliverError[] = [];
  const resources: SpecResource[] = [];
  for (const [index, item] of items.entries()) {
    if (validateShape(item)) resources.push(item);
    else for (const error of validateShape.errors ?? []) violations.push(shapeViolation(item, index, error));
  }

  const ids = new Set<string>();
  for (const resource of resources) {
    if (ids.has(resource.id))
      violations.push(violation('SPEC_DUPLICATE_ID', `resource ${resource.id}: id is not unique`));
    ids.add(resource.id);
  }

  const scanner = new ReferenceScanner(ids);
  for (const resource of resources) {
    violations.push(...resourceViolations(resource, ids, scanner, knownTypes));
  }
  if (violations.length > 0) throw new SpecInvalidError(source, violations);
  return { resources };
}

function resourceViolations(
  resource: SpecResource,
  ids: ReadonlySet<string>,
  scanner: ReferenceScanner,
  knownTypes: ReadonlySet<string>,
): KdeliverError[] {
  const found: KdeliverError[] = [];
  const at = `resource ${resource.id}`;
  if (!knownTypes.has(resource.type)) {
    const known = [...knownTypes].sort().join(', ');
    found.push(
      violation('SPEC_UNKNOWN_TYPE', `${at}: type ${resource.type} is not a known runtime (known: ${known})`),
    );
  }
  if (resource.type === KUBERNETES_TYPE) found.push(...kubernetesIdViolations(resource));
  for (const [index, target] of (resource.dependsOn ?? []).entries()) {
    if (!ids.has(target)) {
      found.push(
        violation(
          'SPEC_UNKNOWN_DEPENDENCY',
          `${at}: dependsOn[${index}] names ${target}, which is not in the spec`,
        ),
      );
    }
  }
  for (const { field, value } of attributeStrings(resource.attributes)) {
    for (const unknown of scanner.scan(value).unknown) {
      found.push(
        violation(
          'SPEC_UNKNOWN_REFERENCE',
          `${at}: ${field} refers to $kusion_path.${unknown.text}, which names no resource of the spec followed by a field path`,
        ),
      );
    }
  }
  const timeout = timeoutSetting(resource);
  if (timeout !== undefined && parseDuration(timeout) === undefined) {
    found.push(
      violation(
        'SPEC_TIMEOUT_INVALID',
        `${at}: ${TIMEOUT_FIELD} is ${JSON.stringify(timeout)}; expected seconds or a duration like 90s, 5m, 1h30m`,
      ),
    );
  }
  return found;
}

function kubernetesIdViolations(resource: SpecResource): KdeliverError[] {
  const at = `resource ${resource.id}`;
  const id = parseKubernetesId(resource.id);
  if (!id) {
    return [
      violation(
        'SPEC_ID_MALFORMED',
        `${at}: id must be apiVersion:Kind:namespace:name, or apiVersion:Kind:name for cluster-scoped resources`,
      ),
    ];
  }
  const declared = declaredIdentity(resource.attributes);
  const checks: [field: string, fromId: string | undefined, fromAttributes: unknown][] = [
    ['attributes.apiVersion', id.apiVersion, declared.apiVersion],
    ['attributes.kind', id.kind, declared.kind],
    ['attributes.metadata.namespace', id.namespace, declared.namespace],
    ['attributes.metadata.name', id.name, declared.name],
  ];
  return checks
    .filter(([, fromId, fromAttributes]) => fromId !== fromAttributes)
    .map(([field, fromId, fromAttributes]) =>
      violation(
        'SPEC_ID_MISMATCH',
        `${at}: ${field} is ${fromAttributes === undefined ? 'not set' : JSON.stringify(fromAttributes)}, but the id says ${fromId === undefined ? 'it is not set (cluster-scoped)' : JSON.stringify(fromId)}`,
      ),
    );
}

function shapeViolation(item: unknown, index: number, error: ErrorObject): KdeliverError {
  const id = isPlainObject(item) && typeof item.id === 'string' && item.id !== '' ? item.id : undefined;
  const at = id === undefined ? `resource #${index + 1}` : `resource ${id}`;
  const field = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('')
    .replace(/^\./, '');
  if (error.keyword === 'required') {
    return violation('SPEC_SHAPE', `${at}: ${String(error.params.missingProperty)} is missing`);
  }
  if (error.keyword === 'additionalProperties') {
    return violation(
      'SPEC_SHAPE',
      `${at}: ${String(error.params.additionalProperty)} is not a resource field`,
    );
  }
  return violation('SPEC_SHAPE', `${at}: ${field || 'the resource'} ${error.message ?? 'is invalid'}`);
}

function violation(code: string, message: string): KdeliverError {
  return new KdeliverError('input', code, message);
}
