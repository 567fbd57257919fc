import { KdeliverCommand } from './base.ts';
import { installFlags, packageArg, runInstall } from './install.ts';

export default class Upgrade extends KdeliverCommand {
  static override summary = 'Upgrade an installed project to a new package.';
  static override description = [
    'The same steps as install (verify, preflight, push only the blobs the site registry lacks, rewrite, preview,',
    'confirm, apply), against the installed release of each stack: resources that left a stack are deleted,',
    'stacks that left the package are uninstalled. Refused when the project is not installed. A failed stack',
    'rolls back as install does. Exits 4, 5 and 7 as install.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> upgrade shop-1.5.0.tar.zst --key kdeliver.pub --registry registry.site:5000 --registry-user ops',
  ];
  static override args = { file: packageArg };
  static override flags = installFlags;

  async run() {
    const { args, flags } = await this.parse(Upgrade);
    return runInstall(this, 'upgrade', args.file, flags, this.jsonEnabled());
  }
}
