/**
 * Full verification of a package: the signature, then every entry read and checked in
 * one streaming pass. Nothing is written anywhere.
 */
import { openPackage, type OpenPackageOptions } from './package-reader.ts';

export interface VerificationReport {
  files: string[];
  name: string;
  version: string;
  formatVersion: number;
  /** Fingerprint of the key the signature was checked with; null when skipped. */
  verifiedKey: string | null;
  entries: number;
  bytes: number;
  images: number;
}

export async function verifyPackage(path: string, options: OpenPackageOptions): Promise<VerificationReport> {
  const opened = await openPackage(path, options);
  let entries = 0;
  let bytes = 0;
  for await (const entry of opened.entries()) {
    for await (const chunk of entry.stream) bytes += chunk.length;
    entries++;
  }
  return {
    files: opened.files,
    name: opened.manifest.name,
    version: opened.manifest.version,
    formatVersion: opened.manifest.formatVersion,
    verifiedKey: opened.verifiedKey,
    entries,
    bytes,
    images: opened.manifest.images.length,
  };
}
