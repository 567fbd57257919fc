/**
 * The site's values for the variables a package's Konfig stacks declare (KCL
 * `option("…", required=True)`): from `--set name=value`, `--values FILE`, the previous
 * release (an upgrade keeps them), or a prompt at a terminal, in that order. Values whose
 * name says they are secret are asked for masked and recorded in state as digests only.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { StackVariable } from '../bundle/format.ts';
import { isPlainObject } from '../engine/canonical.ts';
import { KdeliverError, messageOf } from '../errors.ts';
import { digestOf } from '../state/secret-masking.ts';

export type VariableValues = Record<string, unknown>;

/** A stack's declared variables and what its last release recorded for them. */
export interface StackVariables {
  stack: string;
  variables: readonly StackVariable[];
  previous: VariableValues;
}

const SENSITIVE = /pass(word|wd)?|secret|token|credential|private|api[-_]?key|(^|[-_])key$/i;

/** Names that say the value is a secret: masked when asked, a digest in state. */
export function isSensitive(name: string): boolean {
  return SENSITIVE.test(name);
}

/** `--set name=value` arguments, in order; a later one wins. */
export function parseSetArguments(sets: readonly string[]): VariableValues {
  const values: VariableValues = {};
  for (const set of sets) {
    const equals = set.indexOf('=');
    if (equals <= 0)
      throw new KdeliverError('usage', 'SET_INVALID', `--set ${set}: expected NAME=VALUE`, {
        hint: 'Give each variable as --set domain=shop.example.com.',
      });
    values[set.slice(0, equals)] = set.slice(equals + 1);
  }
  return values;
}

/** A `--values` YAML (or JSON) file: a map of variable names to values. */
export async function readValuesFile(path: string): Promise<VariableValues> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new KdeliverError(
      'input',
      'VALUES_UNREADABLE',
      `cannot read --values ${path}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new KdeliverError('input', 'VALUES_INVALID', `--values ${path} is not YAML: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed))
    throw new KdeliverError(
      'input',
      'VALUES_INVALID',
      `--values ${path} must be a map of variable names to values`,
    );
  return parsed;
}

/**
 * A value given as text (`--set`, a prompt) in the variable's declared type; values from a
 * YAML file keep their own type and are left to the KCL option check.
 */
export function typedValue(variable: StackVariable, text: string): unknown {
  const fail = (what: string) =>
    new KdeliverError(
      'usage',
      'VARIABLE_TYPE',
      `variable ${variable.name} must be ${what}, not ${JSON.stringify(text)}`,
      {
        hint: variable.help ? `It is: ${variable.help}` : undefined,
      },
    );
  switch (variable.type) {
    case 'int':
      if (!/^[-+]?\d+$/.test(text.trim())) throw fail('an integer');
      return Number(text);
    case 'float':
      if (text.trim() === '' || !Number.isFinite(Number(text))) throw fail('a number');
      return Number(text);
    case 'bool':
      if (!/^(true|false)$/i.test(text.trim())) throw fail('true or false');
      return text.trim().toLowerCase() === 'true';
    case 'list':
    case 'dict':
      try {
        return parseYaml(text) as unknown;
      } catch {
        throw fail(`a YAML ${variable.type}`);
      }
    default:
      return text;
  }
}

/** How a variable is asked for: its help, else its name. */
function question(stack: string, variable: StackVariable): string {
  return `${variable.help ?? variable.name} (${variable.name}, stack ${stack})`;
}

/**
 * The values of every stack's variables. A name given on the command line or in the file
 * applies to every stack that declares it. `prompt` asks for what is still missing; without
 * it a missing value is an error listing every one of them.
 */
export async function resolveVariables(
  stacks: readonly StackVariables[],
  given: VariableValues,
  prompt: ((stack: string, variable: StackVariable, message: string) => Promise<string>) | undefined,
): Promise<Map<string, VariableValues>> {
  const resolved = new Map<string, VariableValues>();
  const missing: string[] = [];
  const asked: VariableValues = {};
  for (const { stack, variables, previous } of stacks) {
    const values: VariableValues = {};
    for (const variable of variables) {
      const { name } = variable;
      const value =
        name in given
          ? given[name]
          : name in asked
            ? asked[name]
            : !isSensitive(name)
              ? previous[name]
              : undefined;
      if (value !== undefined) {
        values[name] = typeof value === 'string' ? typedValue(variable, value) : value;
      } else if (prompt) {
        asked[name] = await prompt(stack, variable, question(stack, variable));
        values[name] = typedValue(variable, asked[name] as string);
      } else {
        missing.push(`${name} (stack ${stack}${variable.help ? `: ${variable.help}` : ''})`);
      }
    }
    resolved.set(stack, values);
  }
  if (missing.length > 0)
    throw new KdeliverError(
      'usage',
      'VARIABLES_MISSING',
      `the package needs values for: ${missing.join(', ')}`,
      {
        hint: 'Give them with --set NAME=VALUE or --values FILE, or run at a terminal to be asked.',
      },
    );
  return resolved;
}

/** The values as the state records them: secret ones as digests. */
export function recordedVariables(values: VariableValues): VariableValues {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      isSensitive(name) ? digestOf(typeof value === 'string' ? value : JSON.stringify(value)) : value,
    ]),
  );
}

/** Asks at the terminal, masked for secret names (the prompt library loads only here). */
export async function promptVariable(
  _stack: string,
  variable: StackVariable,
  message: string,
): Promise<string> {
  const { input, password } = await import('@inquirer/prompts');
  const options = { output: process.stderr };
  if (isSensitive(variable.name)) return password({ message, mask: true }, options);
  return input({ message, required: true }, options);
}
