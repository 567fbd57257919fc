/**
 * A sigstore bundle for the manifest, so that sigstore tooling can check a package
 * offline with the same public key. It is a message-signature bundle with a public-key
 * hint (the key fingerprint) and no certificate, transparency-log entry or timestamp:
 * built with @sigstore/sign's MessageSignatureBundleBuilder and no witnesses, checked
 * with @sigstore/verify against trust material holding only that public key.
 */
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { MessageSignatureBundleBuilder } from '@sigstore/sign';
import { toSignedEntity, Verifier, type TrustMaterial } from '@sigstore/verify';
import type { KeyObject } from 'node:crypto';
import { KdeliverError, messageOf } from '../errors.ts';
import { keyFingerprint } from './keys.ts';

/**
 * The serialized bundle for `manifest`, carrying `signature` (the same DER signature as
 * kdeliver.json.sig, so both entries attest the same act of signing).
 */
export async function createSigstoreBundle(
  manifest: Buffer,
  signature: Buffer,
  publicKey: KeyObject,
): Promise<Buffer> {
  const builder = new MessageSignatureBundleBuilder({
    witnesses: [],
    signer: {
      sign: async (data) => {
        if (!data.equals(manifest)) throw new Error('sigstore asked to sign bytes other than the manifest');
        return {
          signature,
          key: {
            $case: 'publicKey',
            publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
            hint: keyFingerprint(publicKey),
          },
        };
      },
    },
  });
  const bundle = await builder.create({ data: manifest });
  return Buffer.from(`${JSON.stringify(bundleToJSON(bundle), null, 2)}\n`);
}

function offlineTrust(publicKey: KeyObject): TrustMaterial {
  const fingerprint = keyFingerprint(publicKey);
  return {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (hint) => {
      if (hint !== fingerprint) throw new Error(`the bundle names key ${hint}, not ${fingerprint}`);
      return { publicKey, validFor: () => true };
    },
  };
}

/** Checks a serialized bundle against the manifest bytes and the public key, without network. */
export function verifySigstoreBundle(
  serialized: Buffer,
  manifest: Buffer,
  publicKey: KeyObject,
  entryName: string,
): void {
  try {
    const bundle = bundleFromJSON(JSON.parse(serialized.toString('utf8')));
    const verifier = new Verifier(offlineTrust(publicKey), {
      tlogThreshold: 0,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    });
    verifier.verify(toSignedEntity(bundle, manifest));
  } catch (error) {
    throw new KdeliverError(
      'verification',
      'PACKAGE_SIGSTORE_INVALID',
      `${entryName} does not verify: ${messageOf(error)}`,
      {
        hint: 'The package was tampered with or signed by another key; get a fresh copy from its builder.',
        cause: error,
      },
    );
  }
}
