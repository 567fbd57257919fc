import { Flags } from '@oclif/core';
import { generateKeyPair } from '../../bundle/keys.ts';
import { KdeliverCommand } from '../base.ts';
import { passphraseFromEnv, promptNewPassphrase } from '../passphrase.ts';

export default class KeysGenerate extends KdeliverCommand {
  static override summary = 'Create a key pair for signing packages.';
  static override description = [
    'Writes kdeliver.key (ECDSA P-256, PKCS#8 PEM, mode 0600) and kdeliver.pub (SPKI PEM). Build signs with',
    'the private key; verify, inspect and install check packages with the public key. The private key is',
    'encrypted with a passphrase when --password-env or --password is given.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> keys generate --out ~/.config/kdeliver',
    'KDELIVER_KEY_PASSWORD=… <%= config.bin %> keys generate --password-env KDELIVER_KEY_PASSWORD',
  ];
  static override flags = {
    out: Flags.string({ description: 'Directory to write the key pair into.', default: '.' }),
    'password-env': Flags.string({
      description: 'Encrypt the private key with the passphrase in this environment variable.',
      exclusive: ['password'],
    }),
    password: Flags.boolean({
      description: 'Encrypt the private key with a passphrase asked for interactively.',
      default: false,
    }),
    force: Flags.boolean({ description: 'Replace an existing key pair.', default: false }),
  };

  async run() {
    const { flags } = await this.parse(KeysGenerate);
    const passphrase = flags['password-env']
      ? passphraseFromEnv(flags['password-env'])
      : flags.password
        ? await promptNewPassphrase()
        : undefined;
    const pair = await generateKeyPair(flags.out, { passphrase, overwrite: flags.force });
    if (!this.jsonEnabled()) {
      this.log(
        `Private key: ${pair.privateKeyPath}${pair.encrypted ? ' (encrypted)' : ''} — keep it secret.`,
      );
      this.log(`Public key:  ${pair.publicKeyPath} — give it to whoever verifies or installs your packages.`);
      this.log(`Fingerprint: ${pair.fingerprint}`);
    }
    return pair;
  }
}
