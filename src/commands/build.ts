import { Flags } from '@oclif/core';
import { COMPRESSIONS } from '../bundle/compression.ts';
import { loadSigner, type PackageSigner } from '../bundle/keys.ts';
import { parsePlatforms } from '../bundle/oci/platform.ts';
import { parseSize } from '../bundle/size.ts';
import { isKdeliverError, KdeliverError } from '../errors.ts';
import { formatBytes } from '../ui/bytes.ts';
import { KdeliverCommand } from './base.ts';
import { passphraseFromEnv, promptPassphrase } from './passphrase.ts';

export default class Build extends KdeliverCommand {
  static override summary = 'Bundle specs and the images they run into one signed package for an air gap.';
  static override description = [
    'Validates every spec (each file is one stack, named after the file unless given as NAME=FILE), finds the',
    'images of its workloads (containers, init and ephemeral containers of Pods, Deployments, ReplicaSets,',
    'StatefulSets, DaemonSets, Jobs and CronJobs) plus --image extras, resolves each to a digest, and writes',
    'specs, catalog and images (an OCI layout) into one package in a single streaming pass.',
    'Registry CAs default to KDELIVER_SOURCE_REGISTRY_CA / KDELIVER_REGISTRY_CA for their hosts (kdeliver',
    'sandbox env); credentials come from the Docker config.json. SOURCE_DATE_EPOCH sets the build time.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> build --spec shop.yaml --version 1.4.0 --key kdeliver.key -o shop-1.4.0.tar.zst',
    '<%= config.bin %> build --spec shop=stacks/shop/spec.yaml --spec ops.yaml --name site --version 2 --platform linux/amd64 --split-size 4G --unsigned',
  ];
  static override flags = {
    spec: Flags.string({
      description: 'Spec file, as FILE or NAME=FILE; one stack each. Repeatable.',
      multiple: true,
      required: true,
    }),
    name: Flags.string({ description: 'Package name; defaults to the stack name when there is one stack.' }),
    version: Flags.string({ description: 'Package version; defaults to 0.0.0-<build time>.' }),
    image: Flags.string({
      description: 'Another image to deliver (a registry reference). Repeatable.',
      multiple: true,
    }),
    platform: Flags.string({
      description:
        'Platforms to keep from multi-platform images, e.g. linux/amd64,linux/arm64; all by default.',
      multiple: true,
    }),
    key: Flags.string({
      description: 'Private key (kdeliver.key) to sign the package with.',
      exclusive: ['unsigned'],
    }),
    unsigned: Flags.boolean({
      description: 'Write an unsigned package; every consumer refuses it unless told to skip verification.',
      default: false,
    }),
    'key-password-env': Flags.string({
      description:
        'Environment variable holding the passphrase of an encrypted --key; asked for on a terminal otherwise.',
      dependsOn: ['key'],
    }),
    compression: Flags.option({
      description: 'Compression of the package.',
      options: COMPRESSIONS,
      default: 'zstd',
    })(),
    'split-size': Flags.string({
      description:
        'Split the package into parts of this size: 4G, 512M, 100Mi (K/M/G/T = 1000^n, Ki/Mi/Gi/Ti = 1024^n).',
    }),
    'registry-ca': Flags.string({
      description: 'CA certificate file or directory trusted for the source registries.',
    }),
    'insecure-registry': Flags.string({
      description: 'A registry host[:port] reached over plain HTTP. Repeatable.',
      multiple: true,
    }),
    'source-registry-user': Flags.string({
      description: 'User for the source registry (when all images come from one registry).',
      dependsOn: ['source-registry-password-env'],
    }),
    'source-registry-password-env': Flags.string({
      description: 'Environment variable holding the source registry password.',
      dependsOn: ['source-registry-user'],
    }),
    output: Flags.string({
      char: 'o',
      description: 'Package file to write; defaults to <name>-<version>.tar.zst (.tar.gz, .tar).',
    }),
  };

  async run() {
    const { flags } = await this.parse(Build);
    // Spec validation, the OCI client and the writer cost start-up time for every command.
    const [{ buildPackage, buildTime }, { parseSpecArgument }] = await Promise.all([
      import('../bundle/build.ts'),
      import('../bundle/build-specs.ts'),
    ]);
    const user = flags['source-registry-user'];
    const passwordEnv = flags['source-registry-password-env'];
    const result = await buildPackage(
      {
        specs: flags.spec.map(parseSpecArgument),
        name: flags.name,
        version: flags.version,
        images: flags.image ?? [],
        platforms: (flags.platform ?? []).flatMap(parsePlatforms),
        signer: await buildSigner(flags),
        compression: flags.compression,
        splitSize:
          flags['split-size'] === undefined ? undefined : parseSize(flags['split-size'], '--split-size'),
        output: flags.output,
        registries: {
          ca: flags['registry-ca'],
          insecure: flags['insecure-registry'] ?? [],
          credentials:
            user && passwordEnv ? { username: user, password: passphraseFromEnv(passwordEnv) } : undefined,
        },
        created: buildTime(),
      },
      { json: this.jsonEnabled() },
    );
    if (!this.jsonEnabled()) {
      this.log(
        `${result.name} ${result.version}: ${formatBytes(result.size)} in ${result.seconds.toFixed(1)}s`,
      );
      for (const file of result.files) this.log(`  ${file.path} (${formatBytes(file.size)})`);
      this.log(`Digest: ${result.digest}`);
      this.log(result.signer ? `Signed by ${result.signer}.` : 'NOT signed (--unsigned).');
      this.log(
        `Stacks: ${result.stacks.map((stack) => `${stack.name} (resources: ${stack.resources})`).join(', ')}`,
      );
      this.log(`Images: ${result.images.length}`);
      for (const image of result.images) this.log(`  ${image.reference}@${image.digest}`);
    }
    return result;
  }
}

async function buildSigner(flags: {
  key?: string;
  unsigned: boolean;
  'key-password-env'?: string;
}): Promise<PackageSigner | null> {
  if (flags.unsigned) return null;
  if (flags.key === undefined)
    throw new KdeliverError('usage', 'SIGNING_KEY_REQUIRED', 'build signs packages and no --key was given', {
      hint: 'Sign with --key kdeliver.key (create one with: kdeliver keys generate), or pass --unsigned.',
    });
  const envName = flags['key-password-env'];
  if (envName !== undefined) return loadSigner(flags.key, passphraseFromEnv(envName));
  try {
    return await loadSigner(flags.key);
  } catch (error) {
    if (!isKdeliverError(error) || error.code !== 'KEY_PASSPHRASE_REQUIRED') throw error;
    return loadSigner(flags.key, await promptPassphrase(flags.key, '--key-password-env VAR'));
  }
}
