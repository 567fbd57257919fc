/**
 * Package signing keys: ECDSA P-256, the private key as PKCS#8 PEM (optionally encrypted
 * with a passphrase), the public key as SPKI PEM. Signatures are DER-encoded ECDSA over
 * SHA-256, so `openssl dgst -sha256 -verify` checks them as they are.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { KdeliverError, messageOf } from '../errors.ts';

export const PRIVATE_KEY_FILE = 'kdeliver.key';
export const PUBLIC_KEY_FILE = 'kdeliver.pub';

/** What signs a package: the private key and, for the manifest and sigstore bundle, its public half. */
export interface PackageSigner {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** `sha256:<hex>` of the public key's SPKI DER: how packages and `inspect` name a key. */
export function keyFingerprint(publicKey: KeyObject): string {
  return `sha256:${createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;
}

function requireP256(key: KeyObject, path: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KdeliverError('input', 'KEY_UNSUPPORTED', `${path} is not an ECDSA P-256 key`, {
      hint: 'Create a key pair with: kdeliver keys generate',
    });
  }
}

async function readKeyFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new KdeliverError('input', 'KEY_NOT_FOUND', `cannot read key ${path}: ${messageOf(error)}`, {
      hint: 'Check the path, or create a key pair with: kdeliver keys generate',
      cause: error,
    });
  }
}

export async function loadPublicKey(path: string): Promise<KeyObject> {
  const pem = await readKeyFile(path);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new KdeliverError('input', 'KEY_INVALID', `${path} is not a PEM public key: ${messageOf(error)}`, {
      hint: `Give the ${PUBLIC_KEY_FILE} written by kdeliver keys generate.`,
      cause: error,
    });
  }
  requireP256(key, path);
  return key;
}

export async function loadSigner(path: string, passphrase?: string): Promise<PackageSigner> {
  const pem = await readKeyFile(path);
  const encrypted = pem.includes('ENCRYPTED PRIVATE KEY');
  if (encrypted && passphrase === undefined) {
    throw new KdeliverError(
      'input',
      'KEY_PASSPHRASE_REQUIRED',
      `${path} is encrypted and no passphrase was given`,
      {
        hint: 'Give the passphrase, for example with --password-env VAR.',
      },
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(encrypted ? { key: pem, passphrase } : pem);
  } catch (error) {
    throw new KdeliverError(
      'input',
      encrypted ? 'KEY_PASSPHRASE_WRONG' : 'KEY_INVALID',
      encrypted
        ? `cannot decrypt ${path}: wrong passphrase`
        : `${path} is not a PEM private key: ${messageOf(error)}`,
      {
        hint: encrypted
          ? 'Check the passphrase.'
          : `Give the ${PRIVATE_KEY_FILE} written by kdeliver keys generate.`,
        cause: error,
      },
    );
  }
  requireP256(privateKey, path);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export interface GeneratedKeyPair {
  privateKeyPath: string;
  publicKeyPath: string;
  fingerprint: string;
  encrypted: boolean;
}

/** Writes a new key pair into `dir`; refuses to replace an existing key unless `overwrite`. */
export async function generateKeyPair(
  dir: string,
  options: { passphrase?: string; overwrite?: boolean },
): Promise<GeneratedKeyPair> {
  const privateKeyPath = join(dir, PRIVATE_KEY_FILE);
  const publicKeyPath = join(dir, PUBLIC_KEY_FILE);
  if (!options.overwrite) {
    for (const path of [privateKeyPath, publicKeyPath]) {
      if (
        await access(path).then(
          () => true,
          () => false,
        )
      )
        throw new KdeliverError('input', 'KEY_EXISTS', `${path} already exists`, {
          hint: 'Choose another directory with --out, or replace the key with --force.',
        });
    }
  }
  const encrypted = options.passphrase !== undefined;
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: encrypted
      ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: options.passphrase }
      : { type: 'pkcs8', format: 'pem' },
  });
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(privateKeyPath, privateKey, { mode: 0o600 });
  await writeFileAtomic(publicKeyPath, publicKey, { mode: 0o644 });
  return {
    privateKeyPath,
    publicKeyPath,
    fingerprint: keyFingerprint(createPublicKey(publicKey)),
    encrypted,
  };
}

/** DER ECDSA signature over SHA-256 of `data`. */
export function signBytes(signer: PackageSigner, data: Buffer): Buffer {
  return sign('sha256', data, signer.privateKey);
}

export function verifyBytes(publicKey: KeyObject, data: Buffer, signature: Buffer): boolean {
  return verify('sha256', data, publicKey, signature);
}
