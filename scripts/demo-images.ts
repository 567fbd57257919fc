/**
 * The vendor side of the demo: the scaffold's three images (shop/web, shop/api,
 * shop/worker, tag 1.0; small random layers) pushed to the sandbox's source registry, as
 * the vendor's own registry would hold them. Images already there are kept, so that the
 * demo builds the same package again when it runs again.
 *
 *   node scripts/demo-images.ts        (after: eval "$(kdeliver sandbox env)")
 */
import { createRegistryClient } from '../src/bundle/oci/registry-client.ts';
import { makeImage, pushImage } from '../test/helpers/oci-images.ts';

const host = process.env.KDELIVER_SOURCE_REGISTRY;
const ca = process.env.KDELIVER_SOURCE_REGISTRY_CA;
if (!host || !ca) {
  process.stderr.write(
    'KDELIVER_SOURCE_REGISTRY(_CA) are not set: run eval "$(kdeliver sandbox env)" first\n',
  );
  process.exit(2);
}
const client = await createRegistryClient({ registry: host, ca });
try {
  for (const name of ['web', 'api', 'worker']) {
    const repository = `shop/${name}`;
    if (await client.headManifest(repository, '1.0')) {
      process.stderr.write(`${host}/${repository}:1.0 is there\n`);
      continue;
    }
    const image = await makeImage({ os: 'linux', architecture: 'amd64' }, [256 * 1024, 64 * 1024]);
    await pushImage({ host, ca }, repository, '1.0', [image]);
    process.stderr.write(`${host}/${repository}:1.0 pushed (${image.manifest.digest})\n`);
  }
} finally {
  client.close();
}
