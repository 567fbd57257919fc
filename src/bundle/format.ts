/**
 * The package format (docs/package-format.md): entry names, limits, and the manifest
 * (`kdeliver.json`) with its strict validation. Everything a reader trusts about a
 * package is checked here or by the signature over these exact bytes.
 */
import semver from 'semver';
import { KdeliverError } from '../errors.ts';
import type { Platform } from './blob-source.ts';

/**
 * The newest format version this kdeliver reads and writes. A package carries the lowest
 * version that has what it uses, so packages without Konfig stacks stay readable by
 * kdeliver versions that know only version 1.
 */
export const FORMAT_VERSION = 3;
/**
 * The version that added Konfig stacks (`sources/` entries and stack `project`, `path`,
 * `variables`, `options`) and `requires`, which a reader that does not know it must not
 * ignore.
 */
export const KONFIG_FORMAT_VERSION = 2;
/**
 * The version that added stored zstd frames (compressed layers kept as raw blocks), which
 * an older reader refuses as damaged compression: this version tells it to update instead.
 */
export const STORED_FRAMES_FORMAT_VERSION = 3;
export type FormatVersion = 1 | 2 | 3;

export const MANIFEST_ENTRY = 'kdeliver.json';
export const SIGNATURE_ENTRY = 'kdeliver.json.sig';
export const SIGSTORE_ENTRY = 'kdeliver.sigstore.json';
export const CATALOG_ENTRY = 'state.db';
export const SPECS_DIR = 'specs/';
export const SOURCES_DIR = 'sources/';
export const LAYOUT_DIR = 'images/';
export const LAYOUT_MARKER_ENTRY = `${LAYOUT_DIR}oci-layout`;
export const LAYOUT_INDEX_ENTRY = `${LAYOUT_DIR}index.json`;
export const BLOBS_DIR = `${LAYOUT_DIR}blobs/sha256/`;

/** Upper bounds for the entries a reader holds in memory before it has checked them. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
export const MAX_SIGNATURE_BYTES = 1024;
export const MAX_SIGSTORE_BYTES = 64 * 1024;

/** The OCI annotation under which index.json names each image. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface ManifestEntry {
  path: string;
  size: number;
  /** Lowercase hex sha256 of the entry body. */
  sha256: string;
}

export interface ManifestImage {
  reference: string;
  /** Digest of the image manifest or index, `sha256:<hex>`. */
  digest: string;
  mediaType: string;
  platforms: Platform[];
  /** Bytes of every distinct blob of the image, manifests and indexes included. */
  size: number;
}

export interface ManifestStack {
  name: string;
  resources: number;
}

/** A required option of a Konfig stack: the site gives its value at install. */
export interface StackVariable {
  name: string;
  /** The KCL `type=` of the option (`str`, `int`, …), when it declares one. */
  type?: string;
  help?: string;
}

/** A stack compiled from a Konfig stack directory, whose sources are under `sources/<name>/`. */
export interface KonfigManifestStack extends ManifestStack {
  /** The Konfig project's name. */
  project: string;
  /** The stack directory relative to the `kcl.mod` root, with `/`, e.g. `shop/dev`. */
  path: string;
  /** The required options the program called, by name. */
  variables: StackVariable[];
  /** The values the build gave the other options the program called, by name; the site reuses them. */
  options: Record<string, unknown>;
}

export interface PackageRequirements {
  kubernetes?: string;
}

/** A semver range of Kubernetes versions, e.g. `>=1.30 <1.38`. */
export function isKubernetesRange(text: string): boolean {
  return semver.validRange(text) !== null;
}

export interface PackageManifest {
  formatVersion: FormatVersion;
  name: string;
  version: string;
  /** RFC 3339 UTC, taken from the build input so that builds are reproducible. */
  created: string;
  builder: { name: 'kdeliver'; version: string };
  /** Null only for packages built with --unsigned. */
  signer: { keyFingerprint: string } | null;
  /** What the site must run: `kubernetes`, a semver range of API server versions. */
  requires?: PackageRequirements;
  stacks: (ManifestStack | KonfigManifestStack)[];
  images: ManifestImage[];
  /** Every entry after the signature entries, in the exact order of the tar stream. */
  entries: ManifestEntry[];
}

const SAFE_SEGMENT = /^[A-Za-z0-9_+@=,~-][A-Za-z0-9._+@=,~-]*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * True for a relative path made only of plain segments: no leading `/`, no `.` or `..`,
 * no empty segment, no backslash or control character. Shared by writer and reader.
 */
export function isSafeEntryName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  // A segment may not start with a dot, which rules out `.` and `..` as well.
  return name.split('/').every((segment) => SAFE_SEGMENT.test(segment));
}

export function blobEntryName(digest: string): string {
  return `${BLOBS_DIR}${digest.slice('sha256:'.length)}`;
}

export function isKonfigStack(stack: ManifestStack): stack is KonfigManifestStack {
  return 'project' in stack;
}

/** The entry of a Konfig stack's source file, `path` being relative to the `kcl.mod` root. */
export function sourceEntryName(stack: string, path: string): string {
  return `${SOURCES_DIR}${stack}/${path}`;
}

/** The stack and root-relative path of a `sources/` entry; undefined for other entries. */
export function sourceOfEntry(entry: string): { stack: string; path: string } | undefined {
  if (!entry.startsWith(SOURCES_DIR)) return undefined;
  const rest = entry.slice(SOURCES_DIR.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? undefined : { stack: rest.slice(0, slash), path: rest.slice(slash + 1) };
}

function invalid(detail: string): KdeliverError {
  return new KdeliverError('verification', 'PACKAGE_MANIFEST_INVALID', `${MANIFEST_ENTRY}: ${detail}`, {
    hint: 'The package is damaged or was not written by kdeliver; build it again.',
  });
}

type Json = Record<string, unknown>;

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${where} must be an object`);
  return value as Json;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(`${where} must be an array`);
  return value;
}

function string(value: unknown, where: string, pattern?: RegExp): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${where} must be a non-empty string`);
  if (pattern && !pattern.test(value)) throw invalid(`${where} is malformed: ${JSON.stringify(value)}`);
  return value;
}

function size(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalid(`${where} must be a non-negative integer`);
  return value;
}

function platform(value: unknown, where: string): Platform {
  const raw = object(value, where);
  const os = string(raw.os, `${where}.os`);
  const architecture = string(raw.architecture, `${where}.architecture`);
  return raw.variant === undefined
    ? { os, architecture }
    : { os, architecture, variant: string(raw.variant, `${where}.variant`) };
}

function konfigFields(stack: Json, where: string): Omit<KonfigManifestStack, keyof ManifestStack> {
  const path = string(stack.path, `${where}.path`);
  if (!isSafeEntryName(path)) throw invalid(`${where}.path is not a safe relative path: ${path}`);
  const names = new Set<string>();
  const variables = array(stack.variables, `${where}.variables`).map((value, j) => {
    const at = `${where}.variables[${j}]`;
    const variable = object(value, at);
    const name = string(variable.name, `${at}.name`);
    if (names.has(name)) throw invalid(`${at}.name ${name} is listed twice`);
    names.add(name);
    return {
      name,
      ...(variable.type === undefined ? {} : { type: string(variable.type, `${at}.type`) }),
      ...(variable.help === undefined ? {} : { help: string(variable.help, `${at}.help`) }),
    };
  });
  const options = object(stack.options, `${where}.options`);
  const both = Object.keys(options).find((name) => names.has(name));
  if (both !== undefined) throw invalid(`${where}: ${both} is both a variable and an option`);
  return { project: string(stack.project, `${where}.project`), path, variables, options };
}

/** Every `sources/` entry belongs to a Konfig stack, and every Konfig stack has its `kcl.mod`. */
function checkSources(stacks: readonly ManifestStack[], entries: readonly ManifestEntry[]): void {
  const names = new Set<string>();
  for (const stack of stacks) {
    if (names.has(stack.name)) throw invalid(`stack ${stack.name} is listed twice`);
    names.add(stack.name);
  }
  const konfig = new Set(stacks.filter(isKonfigStack).map((stack) => stack.name));
  const paths = new Set(entries.map((entry) => entry.path));
  for (const entry of entries) {
    const source = sourceOfEntry(entry.path);
    if (entry.path.startsWith(SOURCES_DIR) && !(source && konfig.has(source.stack)))
      throw invalid(`entry ${entry.path} is not the source of a Konfig stack`);
  }
  for (const stack of konfig) {
    if (!paths.has(sourceEntryName(stack, 'kcl.mod')))
      throw invalid(`Konfig stack ${stack} has no ${sourceEntryName(stack, 'kcl.mod')}`);
  }
}

/**
 * Parses manifest bytes and checks every field a reader relies on. Called only after the
 * signature over these bytes has been checked (or explicitly skipped).
 */
export function parseManifest(bytes: Buffer): PackageManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw invalid(`not JSON (${(error as Error).message})`);
  }
  const raw = object(parsed, 'the manifest');
  const formatVersion = raw.formatVersion as FormatVersion;
  if (!Number.isInteger(formatVersion) || formatVersion < 1 || formatVersion > FORMAT_VERSION) {
    throw new KdeliverError(
      'verification',
      'PACKAGE_FORMAT_UNSUPPORTED',
      `${MANIFEST_ENTRY}: format version ${JSON.stringify(raw.formatVersion)} is not supported (this kdeliver reads versions 1 to ${FORMAT_VERSION})`,
      { hint: 'Use the kdeliver version that built the package, or a newer one.' },
    );
  }
  const builder = object(raw.builder, 'builder');
  if (builder.name !== 'kdeliver') throw invalid('builder.name must be "kdeliver"');
  const signer =
    raw.signer === null
      ? null
      : {
          keyFingerprint: string(
            object(raw.signer, 'signer').keyFingerprint,
            'signer.keyFingerprint',
            DIGEST,
          ),
        };
  const entries = array(raw.entries, 'entries').map((value, i) => {
    const entry = object(value, `entries[${i}]`);
    const path = string(entry.path, `entries[${i}].path`);
    if (!isSafeEntryName(path)) throw invalid(`entries[${i}].path is not a safe relative path: ${path}`);
    return {
      path,
      size: size(entry.size, `entries[${i}].size`),
      sha256: string(entry.sha256, `entries[${i}].sha256`, SHA256_HEX),
    };
  });
  const seen = new Set<string>();
  for (const entry of entries) {
    if ([MANIFEST_ENTRY, SIGNATURE_ENTRY, SIGSTORE_ENTRY].includes(entry.path) || seen.has(entry.path))
      throw invalid(`entry ${entry.path} is listed twice or is reserved`);
    seen.add(entry.path);
  }
  const images = array(raw.images, 'images').map((value, i) => {
    const image = object(value, `images[${i}]`);
    const digest = string(image.digest, `images[${i}].digest`, DIGEST);
    if (!seen.has(blobEntryName(digest)))
      throw invalid(`images[${i}] names blob ${digest}, which is not an entry`);
    return {
      reference: string(image.reference, `images[${i}].reference`),
      digest,
      mediaType: string(image.mediaType, `images[${i}].mediaType`),
      platforms: array(image.platforms, `images[${i}].platforms`).map((p, j) =>
        platform(p, `images[${i}].platforms[${j}]`),
      ),
      size: size(image.size, `images[${i}].size`),
    };
  });
  const stacks = array(raw.stacks, 'stacks').map((value, i) => {
    const stack = object(value, `stacks[${i}]`);
    const plain = {
      name: string(stack.name, `stacks[${i}].name`),
      resources: size(stack.resources, `stacks[${i}].resources`),
    };
    if (stack.project === undefined) return plain;
    if (formatVersion < KONFIG_FORMAT_VERSION)
      throw invalid(`stacks[${i}] is a Konfig stack, which format version ${formatVersion} does not have`);
    return { ...plain, ...konfigFields(stack, `stacks[${i}]`) };
  });
  checkSources(stacks, entries);
  const created = string(raw.created, 'created');
  if (Number.isNaN(Date.parse(created))) throw invalid(`created is not a date: ${created}`);
  const requires = raw.requires === undefined ? undefined : requirements(raw.requires, formatVersion);
  return {
    formatVersion,
    name: string(raw.name, 'name'),
    version: string(raw.version, 'version'),
    created,
    builder: { name: 'kdeliver', version: string(builder.version, 'builder.version') },
    signer,
    ...(requires ? { requires } : {}),
    stacks,
    images,
    entries,
  };
}

function requirements(value: unknown, formatVersion: FormatVersion): PackageRequirements {
  if (formatVersion < KONFIG_FORMAT_VERSION)
    throw invalid(`requires is not part of format version ${formatVersion}`);
  const raw = object(value, 'requires');
  if (raw.kubernetes === undefined) return {};
  const kubernetes = string(raw.kubernetes, 'requires.kubernetes');
  if (!isKubernetesRange(kubernetes))
    throw invalid(`requires.kubernetes is not a version range: ${kubernetes}`);
  return { kubernetes };
}

/** The canonical manifest bytes: the writer signs exactly these. */
export function serializeManifest(manifest: PackageManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}
