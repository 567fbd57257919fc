import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { EXIT_CODES } from '../../errors.ts';
import { runKcl } from '../../kcl/run.ts';
import { KdeliverCommand } from '../base.ts';

/** `kdeliver kcl run`: the official `kcl run`, in-process. Flags keep the official spellings. */
export default class KclRun extends KdeliverCommand {
  static override summary = 'Compile KCL files and print the result as YAML or JSON, like `kcl run`.';
  static override description =
    'Evaluates the given .k files as one main package (imports resolve from the nearest kcl.mod) and ' +
    'prints the top-level values. Errors are printed in the official KCL diagnostic format.';
  static override strict = false;
  static override args = {
    files: Args.string({ description: 'KCL files or directories; ${KCL_MOD} is the module root.' }),
  };
  static override baseFlags = {
    ...KdeliverCommand.baseFlags,
    debug: Flags.boolean({
      char: 'd',
      description: 'Debug mode; also show internals on errors.',
      default: false,
    }),
  };
  static override flags = {
    argument: Flags.string({
      char: 'D',
      description: 'Top-level option, key=value.',
      multiple: true,
      multipleNonGreedy: true,
    }),
    setting: Flags.string({
      char: 'Y',
      description: 'Settings file (kcl_cli_configs, kcl_options).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    path_selector: Flags.string({
      char: 'S',
      description: 'Print only this path, e.g. app.metadata.',
      multiple: true,
      multipleNonGreedy: true,
    }),
    disable_none: Flags.boolean({ char: 'n', description: 'Omit None values.', default: false }),
    sort_keys: Flags.boolean({ description: 'Sort mapping keys.', default: false }),
    show_hidden: Flags.boolean({ description: 'Print hidden (_-prefixed) names.', default: false }),
    strict_range_check: Flags.boolean({
      char: 'r',
      description: 'Check that numbers fit 32 bits.',
      default: false,
    }),
    output: Flags.string({ char: 'o', description: 'Write the result to this file instead of stdout.' }),
    format: Flags.string({ description: 'Output format.', options: ['yaml', 'json'], default: 'yaml' }),
  };

  async run() {
    const { argv, flags } = await this.parse(KclRun);
    const words = argv.map(String);
    // `-Y a.yaml b.yaml`: settings files may follow the flag as extra words.
    const settings = [...(flags.setting ?? []), ...words.filter((w) => /\.(ya?ml|json)$/.test(w))];
    const files = words.filter((w) => !/\.(ya?ml|json)$/.test(w));
    const result = runKcl({
      files,
      cwd: process.cwd(),
      options: flags.argument ?? [],
      settings,
      pathSelector: flags.path_selector ?? [],
      omitNone: flags.disable_none,
      sortKeys: flags.sort_keys,
      showHidden: flags.show_hidden,
      strictRangeCheck: flags.strict_range_check,
      debug: flags.debug,
      format: flags.format === 'json' ? 'json' : 'yaml',
    });
    if (flags.output && result.ok) writeFileSync(resolve(flags.output), result.stdout);
    else process.stdout.write(result.stdout);
    if (!result.ok) {
      process.stderr.write(result.stderr);
      this.exit(EXIT_CODES.input);
    }
  }
}
