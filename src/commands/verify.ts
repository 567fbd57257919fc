import { Args } from '@oclif/core';
import { verifyPackage } from '../bundle/verify.ts';
import { KdeliverCommand } from './base.ts';
import { packageOpenOptions, packageVerificationFlags } from './flags.ts';

export default class Verify extends KdeliverCommand {
  static override summary = 'Check a package: signature, then every entry, in one pass that writes nothing.';
  static override description = [
    'Checks the signature of kdeliver.json and its sigstore bundle with --key before reading further, then',
    'reads every entry and checks its size and sha256 against the manifest. Refuses unlisted, missing,',
    'duplicated or reordered entries, links, devices, unsafe paths, truncation and trailing data.',
    'Split packages are read from their first part or their base name. Exits 4 when anything is wrong.',
  ].join('\n');
  static override examples = ['<%= config.bin %> verify shop-1.4.0.tar.zst --key kdeliver.pub'];
  static override args = {
    file: Args.string({ description: 'Package file (or its first part, or its base name).', required: true }),
  };
  static override flags = packageVerificationFlags;

  async run() {
    const { args, flags } = await this.parse(Verify);
    const report = await verifyPackage(args.file, await packageOpenOptions(flags));
    if (!this.jsonEnabled()) {
      this.log(
        `${report.name} ${report.version}: ${report.entries} entries, ${report.bytes} bytes, ${report.images} images verified.`,
      );
      this.log(report.verifiedKey ? `Signed by ${report.verifiedKey}.` : 'Signature NOT checked.');
    }
    return report;
  }
}
