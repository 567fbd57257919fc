import { Args, Flags } from '@oclif/core';
import { COMPRESSIONS } from '../bundle/compression.ts';
import { isKubernetesRange } from '../bundle/format.ts';
import { loadSigner, type PackageSigner } from '../bundle/keys.ts';
import { parsePlatforms } from '../bundle/oci/platform.ts';
import { parseSize } from '../bundle/size.ts';
import { isKdeliverError, KdeliverError } from '../errors.ts';
import { formatBytes } from '../ui/bytes.ts';
import { KdeliverCommand } from './base.ts';
import { passphraseFromEnv, promptPassphrase } from './passphrase.ts';

export default class Build extends KdeliverCommand {
  static override summary =
    'Bundle Konfig stacks or specs and the images they run into one signed package for an air gap.';
  static override description = [
    'Compiles each Konfig stack directory as `kdeliver compile` does (its ci-test/settings.yaml options, -D over them)',
    'into one stack named after the Konfig stack, and keeps its KCL sources, required options (variables) and the',
    'values given to the others, so that the site can compile it again with its own values.',
    'Validates every spec (each --spec file is one stack, named after the file unless given as NAME=FILE), finds the',
    'images of its workloads (containers, init and ephemeral containers of Pods, Deployments, ReplicaSets,',
    'StatefulSets, DaemonSets, Jobs and CronJobs) plus --image extras, resolves each to a digest, and writes',
    'specs, catalog and images (an OCI layout) into one package in a single streaming pass.',
    'Registry CAs default to KDELIVER_SOURCE_REGISTRY_CA / KDELIVER_REGISTRY_CA for their hosts (kdeliver',
    'sandbox env); credentials come from the Docker config.json. SOURCE_DATE_EPOCH sets the build time.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> build shop/dev shop/prod -D domain=shop.example --version 1.0.0 --key kdeliver.key',
    '<%= config.bin %> build --spec shop.yaml --version 1.4.0 --key kdeliver.key -o shop-1.4.0.tar.zst',
    '<%= config.bin %> build --spec shop=stacks/shop/spec.yaml --spec ops.yaml --name site --version 2 --platform linux/amd64 --split-size 4G --unsigned',
  ];
  // Any number of stack directories.
  static override strict = false;
  static override args = {
    stack: Args.string({ description: 'Konfig stack directory (with stack.yaml or kcl.yaml). Repeatable.' }),
  };
  static override flags = {
    spec: Flags.string({
      description: 'Spec file, as FILE or NAME=FILE; one stack each. Repeatable.',
      multiple: true,
    }),
    argument: Flags.string({
      char: 'D',
      description:
        'Option key=value for every Konfig stack, over its settings; required options need one to build. Repeatable.',
      multiple: true,
    }),
    name: Flags.string({
      description:
        'Package name; defaults to the Konfig project when all stacks come from one, else to the only stack.',
    }),
    version: Flags.string({ description: 'Package version; defaults to 0.0.0-<build time>.' }),
    image: Flags.string({
      description:
        'Another image to deliver: a registry reference, oci:DIR[:NAME] or docker-archive:FILE[:NAME:TAG] (delivered under the name it is stored under). Repeatable.',
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
    'kubernetes-versions': Flags.string({
      description:
        'The Kubernetes versions the package supports, as a semver range (e.g. ">=1.30 <1.38"); the install refuses other clusters.',
    }),
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
    const { argv, flags } = await this.parse(Build);
    // Spec validation, the OCI client and the writer cost start-up time for every command.
    const [{ buildPackage, buildTime, checkBuildInputs }, { parseSpecArgument }] = await Promise.all([
      import('../bundle/build.ts'),
      import('../bundle/build-specs.ts'),
    ]);
    const user = flags['source-registry-user'];
    const passwordEnv = flags['source-registry-password-env'];
    const inputs = {
      stackDirs: argv as string[],
      defines: flags.argument ?? [],
      specs: (flags.spec ?? []).map(parseSpecArgument),
    };
    // Before a passphrase prompt: a build without inputs is a usage error.
    checkBuildInputs(inputs);
    const result = await buildPackage(
      {
        ...inputs,
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
        requires: kubernetesRequirement(flags['kubernetes-versions']),
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

function kubernetesRequirement(range: string | undefined): { kubernetes: string } | undefined {
  if (range === undefined) return undefined;
  if (!isKubernetesRange(range))
    throw new KdeliverError(
      'usage',
      'KUBERNETES_RANGE_INVALID',
      `--kubernetes-versions ${range} is not a version range`,
      {
        hint: 'Write a semver range such as ">=1.30 <1.38" or "1.30 - 1.37".',
      },
    );
  return { kubernetes: range };
}
