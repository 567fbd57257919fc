/**
 * What a package holds, read from its manifest and catalog. Only the entries up to
 * state.db are read (and checked); `kdeliver verify` checks the rest.
 */
import { KdeliverError } from '../errors.ts';
import { queryCatalog, summarizeCatalog, type CatalogSummary, type QueryResult } from '../state/catalog.ts';
import { CATALOG_ENTRY, isKonfigStack, type KonfigManifestStack, type ManifestImage } from './format.ts';
import { openPackage, type OpenPackageOptions } from './package-reader.ts';

/** The catalog is small; a bound keeps a hostile package from filling memory. */
const MAX_CATALOG_BYTES = 256 * 1024 * 1024;

export interface PackageInspection {
  files: string[];
  name: string;
  version: string;
  formatVersion: number;
  created: string;
  builder: string;
  /** Fingerprint of the key the manifest names as its signer; null for unsigned packages. */
  signer: string | null;
  /** The Kubernetes versions it supports (a semver range); any when null. */
  kubernetesVersions: string | null;
  /** Whether that signature was checked against a key given by the user. */
  signatureVerified: boolean;
  /** Konfig stacks also carry their manifest fields: project, path, variables, options. */
  stacks: (CatalogSummary['stacks'][number] & Partial<Omit<KonfigManifestStack, 'name' | 'resources'>>)[];
  images: ManifestImage[];
  validations: CatalogSummary['validations'];
}

async function readCatalog(path: string, options: OpenPackageOptions) {
  const opened = await openPackage(path, options);
  try {
    for await (const entry of opened.entries()) {
      if (entry.name !== CATALOG_ENTRY) continue;
      if (entry.size > MAX_CATALOG_BYTES)
        throw new KdeliverError(
          'verification',
          'PACKAGE_ENTRY_TOO_LARGE',
          `entry ${CATALOG_ENTRY} is ${entry.size} bytes, more than inspect reads`,
          {
            hint: 'The package is damaged or was not built by kdeliver.',
          },
        );
      const chunks: Buffer[] = [];
      for await (const chunk of entry.stream) chunks.push(chunk);
      return { opened, catalog: Buffer.concat(chunks) };
    }
  } finally {
    await opened.close();
  }
  throw new KdeliverError('verification', 'PACKAGE_ENTRY_MISSING', `the package has no ${CATALOG_ENTRY}`, {
    hint: 'The package is damaged or was not built by kdeliver.',
  });
}

export async function inspectPackage(path: string, options: OpenPackageOptions): Promise<PackageInspection> {
  const { opened, catalog } = await readCatalog(path, options);
  const summary = await summarizeCatalog(catalog);
  const { manifest } = opened;
  return {
    files: opened.files,
    name: manifest.name,
    version: manifest.version,
    formatVersion: manifest.formatVersion,
    created: manifest.created,
    builder: `${manifest.builder.name} ${manifest.builder.version}`,
    signer: manifest.signer?.keyFingerprint ?? null,
    kubernetesVersions: manifest.requires?.kubernetes ?? null,
    signatureVerified: opened.verifiedKey !== null,
    stacks: summary.stacks.map((stack) => {
      const listed = manifest.stacks.find((candidate) => candidate.name === stack.name);
      if (!listed || !isKonfigStack(listed)) return stack;
      const { project, path, variables, options } = listed;
      return { ...stack, project, path, variables, options };
    }),
    images: manifest.images,
    validations: summary.validations,
  };
}

/** Runs a read-only query on the package's catalog. */
export async function queryPackage(
  path: string,
  sql: string,
  options: OpenPackageOptions,
): Promise<QueryResult> {
  const { catalog } = await readCatalog(path, options);
  return queryCatalog(catalog, sql);
}
