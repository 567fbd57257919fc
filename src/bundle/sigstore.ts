/**
 * A sigstore bundle for the manifest, so that sigstore tooling can check a package
 * offline with the same public key. It is a message-signature bundle with a public-key
 * hint (the key fingerprint) and no certificate, transparency-log entry or timestamp:
 * the JSON @sigstore/sign's MessageSignatureBundleBuilder writes with no witnesses
 * (written here: that library and its network clients cost a build 20 MB of memory),
 * checked with @sigstore/verify against trust material holding only that public key.
 */
import type { TrustMaterial } from '@sigstore/verify';
import { createHash, type KeyObject } from 'node:crypto';
import { KdeliverError, messageOf } from '../errors.ts';
import { keyFingerprint } from './keys.ts';

/**
 * The serialized bundle for `manifest`, carrying `signature` (the same DER signature as
 * kdeliver.json.sig, so both entries attest the same act of signing).
 */
export function createSigstoreBundle(manifest: Buffer, signature: Buffer, publicKey: KeyObject): Buffer {
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.2',
    verificationMaterial: { publicKey: { hint: keyFingerprint(publicKey) }, timestampVerificationData: {} },
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: createHash('sha256').update(manifest).digest('base64'),
      },
      signature: signature.toString('base64'),
    },
  };
  return Buffer.from(`${JSON.stringify(bundle, null, 2)}\n`);
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
export async function verifySigstoreBundle(
  serialized: Buffer,
  manifest: Buffer,
  publicKey: KeyObject,
  entryName: string,
): Promise<void> {
  // Loaded only by readers: writers need neither.
  const [{ bundleFromJSON }, { toSignedEntity, Verifier }] = await Promise.all([
    import('@sigstore/bundle'),
    import('@sigstore/verify'),
  ]);
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
