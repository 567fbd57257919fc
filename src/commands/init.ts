import { Args } from '@oclif/core';
import { KdeliverCommand } from './base.ts';

export default class Init extends KdeliverCommand {
  static override summary =
    'Create a Konfig repository: the application model and a project with dev and prod stacks.';
  static override description = [
    'Writes kcl.mod, the kdeliver application model (models/app: workload, accessories, exposure, pipeline,',
    'policysets, dependency; models/backend and models/render turn it into Kubernetes resources) and the project',
    'shop: two apps sharing shop/base, stacks shop/dev and shop/prod, and their golden specs in ci-test/.',
    'The directory must not exist or be empty. See docs/konfig.md.',
  ].join('\n');
  static override examples = ['<%= config.bin %> init konfig && <%= config.bin %> compile konfig/shop/dev'];
  static override args = {
    dir: Args.string({ description: 'Directory to create the repository in.', required: true }),
  };

  async run() {
    const { args } = await this.parse(Init);
    // The scaffold's texts are only needed here.
    const { SCAFFOLD_STACKS, writeScaffold } = await import('../kcl/project/scaffold.ts');
    const files = writeScaffold(args.dir);
    if (!this.jsonEnabled()) {
      this.log(`Created a Konfig repository in ${args.dir} (${files.length} files).`);
      for (const stack of SCAFFOLD_STACKS)
        this.log(`  compile a stack: ${this.config.bin} compile ${args.dir}/${stack}`);
    }
    return { dir: args.dir, files, stacks: SCAFFOLD_STACKS };
  }
}
