import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { KdeliverCommand } from './base.ts';

export default class Compile extends KdeliverCommand {
  static override summary = 'Compile a Konfig stack to the spec Kusion would run, and validate it.';
  static override description = [
    'Runs the files kcl.yaml lists (kcl_cli_configs.file, ${KCL_MOD} being the directory of the root kcl.mod)',
    'with the stack directory as working directory and the options of ci-test/settings.yaml (-D overrides them),',
    'then prints the resources the program renders as a YAML list {id, type, attributes, dependsOn, extensions}.',
    'The spec is validated first: unique ids, ids matching attributes, dependsOn targets, $kusion_path references.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> compile appops/guestbook/dev',
    '<%= config.bin %> compile appops/shop/prod -D cluster=site-a -o shop-prod.yaml',
  ];
  static override args = {
    stack: Args.string({ description: 'Stack directory (with stack.yaml or kcl.yaml).', required: true }),
  };
  static override flags = {
    argument: Flags.string({
      char: 'D',
      description: 'Option key=value, overriding the stack settings. Repeatable.',
      multiple: true,
    }),
    output: Flags.string({ char: 'o', description: 'Write the spec to this file instead of stdout.' }),
  };

  async run() {
    const { args, flags } = await this.parse(Compile);
    // The interpreter and the spec model cost start-up time for every other command.
    const [{ loadStack }, { compileStack, formatSpec }] = await Promise.all([
      import('../kcl/project/stack.ts'),
      import('../kcl/project/compile.ts'),
    ]);
    const stack = loadStack(args.stack);
    const { resources, specError } = compileStack(stack, { options: flags.argument ?? [] });
    if (specError) throw specError;
    if (flags.output) {
      writeFileSync(resolve(flags.output), formatSpec(resources, this.jsonEnabled() ? 'json' : 'yaml'));
      if (!this.jsonEnabled())
        this.log(`${stack.path}: ${resources.length} resources written to ${flags.output}`);
    } else if (!this.jsonEnabled()) {
      process.stdout.write(formatSpec(resources, 'yaml'));
    }
    return resources;
  }
}
