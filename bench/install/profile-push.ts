/**
 * Where `kdeliver install` spends its time before the apply: the verification pass, then
 * the push pass into fresh repositories (`<prefix>/…` instead of the images' own paths)
 * and again with everything present. Uses the sandbox variables of `kdeliver sandbox env`.
 *
 *   node bench/install/profile-push.ts PACKAGE --key kdeliver.pub [--prefix P] [--lanes N]
 *
 * --lanes sets how many uploads run at once (default: the install's own).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadPublicKey } from '../../src/bundle/keys.ts';
import { createRegistryClient } from '../../src/bundle/oci/registry-client.ts';
import { planPush, type PushPlan } from '../../src/install/push-plan.ts';
import { imagesPresent, presentSummary, pushImages } from '../../src/install/push-images.ts';
import { checkPackage } from '../../src/install/read-package.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    key: { type: 'string' },
    prefix: { type: 'string', default: `profile-${Date.now().toString(36)}` },
    lanes: { type: 'string' },
  },
});
const path = positionals[0]!;
const open = { publicKey: await loadPublicKey(values.key!) };

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
let started = performance.now();
const checked = await checkPackage(path, open);
process.stdout.write(`verify pass: ${seconds(started)} s, ${(checked.bytes / 1e6).toFixed(0)} MB\n`);

const plan = planPush(checked.manifest.images, checked.documents);
const moved = (repository: string) => `${values.prefix}/${repository}`;
const fresh: PushPlan = {
  images: plan.images.map((image) => ({ ...image, repository: moved(image.repository) })),
  repositories: new Map([...plan.repositories].map(([digest, list]) => [digest, list.map(moved)])),
  manifests: plan.manifests,
};
const client = await createRegistryClient({
  registry: process.env.KDELIVER_REGISTRY!,
  ca: process.env.KDELIVER_REGISTRY_CA,
  credentials: {
    username: process.env.KDELIVER_REGISTRY_USER!,
    password: process.env.KDELIVER_REGISTRY_PASSWORD!,
  },
});
started = performance.now();
for (let i = 0; i < 10; i++) await client.hasBlob(fresh.images[0]!.repository, `sha256:${'0'.repeat(64)}`);
process.stdout.write(
  `one registry request (HEAD, basic auth): ${((performance.now() - started) / 10).toFixed(0)} ms\n`,
);
try {
  for (const label of ['push, empty repositories', 'push, everything present']) {
    started = performance.now();
    // As the install does: ask first, push only when an image is missing.
    const summary = (await imagesPresent(fresh.images, client))
      ? presentSummary(fresh.images, checked.manifest, client.registry)
      : await pushImages(
          { path, open, manifestBytes: checked.manifestBytes, manifest: checked.manifest, layout: checked },
          fresh,
          client,
          values.lanes === undefined ? {} : { lanes: Number(values.lanes) },
        );
    process.stdout.write(
      `${label}: ${seconds(started)} s, ${(summary.bytes.pushed / 1e6).toFixed(0)} MB pushed, ` +
        `${summary.blobs.pushed} blobs pushed, ${summary.blobs.skipped} skipped\n`,
    );
  }
} finally {
  client.close();
}
process.stdout.write(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
