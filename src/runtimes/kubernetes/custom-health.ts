import { KdeliverError } from '../../errors.ts';
import { kdeliverSetting, type HealthStatus, type LiveObject, type SpecResource } from '../runtime.ts';

/**
 * Health rules a resource carries in `extensions.kdeliver.health`, for kinds the built-in
 * rules do not know (see docs/state.md, "Custom health rules"). They replace the built-in
 * rules for that resource.
 */
export interface HealthRule {
  /** A field path into the live object: `status.phase`, `status.items[0].ready`, `status.conditions[type=Ready].status`. */
  path: string;
  /** The value the field must have; scalars compare by their text (`true` equals `"true"`). */
  equals: unknown;
}

export interface CustomHealth {
  /** All must hold for healthy. */
  healthyWhen: HealthRule[];
  /** Any one holding means failed. */
  failedWhen: HealthRule[];
}

type PathStep = { field: string } | { index: number } | { key: string; value: string };

const STEP = /\.?([^.[\]]+)|\[(\d+)\]|\[([^=\]]+)=([^\]]*)\]/y;

export function parsePath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  STEP.lastIndex = 0;
  const text = path.startsWith('.') ? path : `.${path}`;
  while (STEP.lastIndex < text.length) {
    const start = STEP.lastIndex;
    const match = STEP.exec(text);
    if (!match) throw new Error(`cannot parse "${path}" at "${text.slice(start)}"`);
    if (match[1] !== undefined) steps.push({ field: match[1] });
    else if (match[2] !== undefined) steps.push({ index: Number(match[2]) });
    else steps.push({ key: match[3]!.trim(), value: match[4]!.trim().replace(/^"(.*)"$/, '$1') });
  }
  return steps;
}

/** The value at `path`, or undefined when any step is missing. */
export function valueAt(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const step of parsePath(path)) {
    if ('field' in step) {
      current =
        current && typeof current === 'object' ? (current as Record<string, unknown>)[step.field] : undefined;
    } else if ('index' in step) {
      current = Array.isArray(current) ? current[step.index] : undefined;
    } else {
      current = Array.isArray(current)
        ? current.find(
            (item) =>
              item &&
              typeof item === 'object' &&
              String((item as Record<string, unknown>)[step.key]) === step.value,
          )
        : undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
}

function holds(live: LiveObject, rule: HealthRule): boolean {
  const actual = valueAt(live, rule.path);
  if (actual === undefined) return false;
  if (typeof actual === 'object' || typeof rule.equals === 'object') {
    return JSON.stringify(actual) === JSON.stringify(rule.equals);
  }
  return String(actual) === String(rule.equals);
}

function invalid(resource: SpecResource, why: string): KdeliverError {
  return new KdeliverError(
    'input',
    'K8S_HEALTH_RULE_INVALID',
    `extensions.kdeliver.health of ${resource.id} is invalid: ${why}`,
    { hint: 'Write rules as {path, equals} lists under healthyWhen and failedWhen (docs/state.md).' },
  );
}

function rulesOf(resource: SpecResource, value: unknown, key: string): HealthRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(resource, `${key} must be a list`);
  return value.map((rule: unknown, index) => {
    const candidate = rule as Partial<HealthRule> | null;
    if (!candidate || typeof candidate.path !== 'string' || !('equals' in candidate)) {
      throw invalid(resource, `${key}[${index}] needs a string path and an equals value`);
    }
    try {
      parsePath(candidate.path);
    } catch (error) {
      throw invalid(resource, `${key}[${index}].path: ${(error as Error).message}`);
    }
    return { path: candidate.path, equals: candidate.equals };
  });
}

/** The resource's custom rules, or undefined when it has none. */
export function customHealthOf(resource: SpecResource): CustomHealth | undefined {
  const health = kdeliverSetting(resource, 'health') as
    { healthyWhen?: unknown; failedWhen?: unknown } | undefined;
  if (health === undefined) return undefined;
  if (!health || typeof health !== 'object') throw invalid(resource, 'it must be an object');
  const rules = {
    healthyWhen: rulesOf(resource, health.healthyWhen, 'healthyWhen'),
    failedWhen: rulesOf(resource, health.failedWhen, 'failedWhen'),
  };
  if (rules.healthyWhen.length === 0 && rules.failedWhen.length === 0) {
    throw invalid(resource, 'it has neither healthyWhen nor failedWhen rules');
  }
  return rules;
}

export function evaluateCustomHealth(live: LiveObject, rules: CustomHealth): HealthStatus {
  const failure = rules.failedWhen.find((rule) => holds(live, rule));
  if (failure) return { state: 'failed', message: `${failure.path} is ${JSON.stringify(failure.equals)}` };
  const unmet = rules.healthyWhen.find((rule) => !holds(live, rule));
  if (unmet) {
    const actual = valueAt(live, unmet.path);
    return {
      state: 'progressing',
      message: `waiting for ${unmet.path} to be ${JSON.stringify(unmet.equals)} (is ${actual === undefined ? 'unset' : JSON.stringify(actual)})`,
    };
  }
  return { state: 'healthy' };
}
