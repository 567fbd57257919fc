/**
 * The compile settings of a Konfig stack, as Kusion reads them: `kcl.yaml` names the input
 * files (`kcl_cli_configs.file`) and may set flags and options; `ci-test/settings.yaml`
 * adds options (`kcl_options`, each `key`/`value` becoming one `-D`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { KdeliverError, messageOf } from '../../errors.ts';
import { expandModPath } from '../loader.ts';

/** Output flags `kcl_cli_configs` may set; the names are those of `runKcl`. */
export interface CompileFlags {
  omitNone?: boolean;
  sortKeys?: boolean;
  showHidden?: boolean;
  strictRangeCheck?: boolean;
}

export interface CompileSettings {
  /** Input files, `${KCL_MOD}` expanded; relative ones are relative to the stack directory. */
  files: string[];
  /** Option values in the order given; a later key overrides an earlier one. */
  options: [string, unknown][];
  flags: CompileFlags;
}

const FLAG_KEYS: Record<string, keyof CompileFlags> = {
  disable_none: 'omitNone',
  sort_keys: 'sortKeys',
  show_hidden: 'showHidden',
  strict_range_check: 'strictRangeCheck',
};

function invalid(file: string, what: string): KdeliverError {
  return new KdeliverError('input', 'KONFIG_SETTINGS_INVALID', `${file}: ${what}`, {
    hint: 'See docs/konfig.md for the layout of kcl.yaml and ci-test/settings.yaml.',
  });
}

function readYamlRecord(file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw invalid(file, `not valid YAML: ${messageOf(error)}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw invalid(file, 'expected a mapping');
  return data as Record<string, unknown>;
}

function readOptions(file: string, value: unknown): [string, unknown][] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(file, 'kcl_options must be a list of {key, value}');
  return value.map((item: unknown, index) => {
    if (!item || typeof item !== 'object' || typeof (item as { key?: unknown }).key !== 'string') {
      throw invalid(file, `kcl_options[${index}] needs a string key`);
    }
    const { key, value: optionValue } = item as { key: string; value?: unknown };
    return [key, optionValue ?? null];
  });
}

/**
 * Reads the settings of a stack: `kclYaml` and then `settingsYaml` (either may be missing).
 * `modRoot` is the directory of the root `kcl.mod`, the meaning of `${KCL_MOD}`.
 */
export function readCompileSettings(kclYaml: string, settingsYaml: string, modRoot: string): CompileSettings {
  const settings: CompileSettings = { files: [], options: [], flags: {} };
  for (const file of [kclYaml, settingsYaml]) {
    if (!existsSync(file)) continue;
    const record = readYamlRecord(file);
    const cli = record.kcl_cli_configs;
    if (cli !== undefined && cli !== null) {
      if (typeof cli !== 'object' || Array.isArray(cli))
        throw invalid(file, 'kcl_cli_configs must be a mapping');
      const configs = cli as Record<string, unknown>;
      const listed = configs.file ?? configs.files;
      if (listed !== undefined && listed !== null) {
        if (!Array.isArray(listed) || !listed.every((f) => typeof f === 'string')) {
          throw invalid(file, 'kcl_cli_configs.file must be a list of file names');
        }
        settings.files.push(...listed.map((f: string) => expandModPath(f, modRoot)));
      }
      for (const [key, flag] of Object.entries(FLAG_KEYS)) {
        const value = configs[key];
        if (value === undefined) continue;
        if (typeof value !== 'boolean') throw invalid(file, `kcl_cli_configs.${key} must be true or false`);
        settings.flags[flag] = value;
      }
    }
    settings.options.push(...readOptions(file, record.kcl_options));
  }
  return settings;
}
