import { Args, Flags } from '@oclif/core';
import { inspectPackage, queryPackage } from '../bundle/inspect.ts';
import { KdeliverCommand } from './base.ts';
import { packageOpenOptions, packageVerificationFlags } from './flags.ts';

export default class Inspect extends KdeliverCommand {
  static override summary =
    'Show what a package delivers: stacks, resources, images, signer, validation results.';
  static override description = [
    'Reads the manifest and the catalog (state.db) at the front of the package, checking the signature and',
    'their digests; it does not read the images (kdeliver verify checks everything).',
    '--sql runs one read-only SELECT on the catalog; tables: stacks, resources, resource_dependencies,',
    'images, validations.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> inspect shop-1.4.0.tar.zst --key kdeliver.pub',
    `<%= config.bin %> inspect shop-1.4.0.tar.zst --key kdeliver.pub --sql "select kind, count(*) from resources group by kind"`,
  ];
  static override args = {
    file: Args.string({ description: 'Package file (or its first part, or its base name).', required: true }),
  };
  static override flags = {
    ...packageVerificationFlags,
    sql: Flags.string({ description: 'Run one read-only SELECT on the package catalog and print the rows.' }),
  };

  async run() {
    const { args, flags } = await this.parse(Inspect);
    const options = await packageOpenOptions(flags);
    if (flags.sql !== undefined) {
      const result = await queryPackage(args.file, flags.sql, options);
      if (!this.jsonEnabled()) {
        this.log(result.columns.join('\t'));
        for (const row of result.rows)
          this.log(row.map((value) => (value === null ? 'NULL' : String(value))).join('\t'));
      }
      return result;
    }
    const inspection = await inspectPackage(args.file, options);
    if (!this.jsonEnabled()) {
      this.log(
        `${inspection.name} ${inspection.version} (format ${inspection.formatVersion}, built ${inspection.created} by ${inspection.builder})`,
      );
      this.log(
        `Signer: ${inspection.signer ?? 'none (unsigned)'}${inspection.signatureVerified ? ' — signature verified' : ''}`,
      );
      this.log(`Kubernetes: ${inspection.kubernetesVersions ?? 'any version'}`);
      this.log('Stacks:');
      for (const stack of inspection.stacks) {
        const kinds = Object.entries(stack.kinds).map(([kind, count]) => `${count} ${kind}`);
        this.log(
          `  ${stack.name}: ${stack.resources} resources${kinds.length ? ` (${kinds.join(', ')})` : ''}`,
        );
        if (stack.project !== undefined)
          this.log(
            `    Konfig stack ${stack.path} of project ${stack.project}; variables: ${stack.variables?.map((v) => v.name).join(', ') || 'none'}`,
          );
      }
      this.log('Images:');
      for (const image of inspection.images) {
        const platforms = image.platforms.map((p) =>
          [p.os, p.architecture, p.variant].filter(Boolean).join('/'),
        );
        this.log(
          `  ${image.reference} ${image.digest.slice(0, 19)}… ${image.size} bytes [${platforms.join(', ')}]`,
        );
      }
      this.log(`Validation results: ${inspection.validations.length === 0 ? 'none' : ''}`);
      for (const v of inspection.validations)
        this.log(
          `  ${v.severity} ${v.stack}${v.resourceId ? `/${v.resourceId}` : ''} ${v.rule}: ${v.message}`,
        );
    }
    return inspection;
  }
}
