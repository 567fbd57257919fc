/**
 * The package signature checked by cosign, Sigstore's own CLI: `kdeliver.json.sig` is
 * what `cosign verify-blob --key` expects, so a site can check a package without kdeliver.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, runProgram } from '../helpers/cli.ts';
import { ensureCosign } from '../helpers/cosign.ts';

let work: string;
let cosign: string;
let extracted: string;

async function kdeliver(args: string[]) {
  const result = await runCli(args);
  if (result.code !== 0)
    throw new Error(`kdeliver ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
}

function verifyBlob(publicKey: string) {
  return runProgram(
    cosign,
    [
      'verify-blob',
      '--key',
      publicKey,
      '--signature',
      'kdeliver.json.sig',
      '--insecure-ignore-tlog',
      'kdeliver.json',
    ],
    { cwd: extracted },
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-cosign-'));
  // A cold build of cosign from Go modules takes minutes; warm runs find it in the cache.
  cosign = await ensureCosign();
  const spec = join(work, 'ops.yaml');
  await writeFile(
    spec,
    stringify([
      {
        id: 'v1:Namespace:ops',
        type: 'Kubernetes',
        attributes: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ops' } },
      },
    ]),
  );
  await kdeliver(['keys', 'generate', '--out', work]);
  await kdeliver(['keys', 'generate', '--out', join(work, 'other')]);
  const pkg = join(work, 'ops.tar.zst');
  await kdeliver(['build', '--spec', spec, '--key', join(work, 'kdeliver.key'), '-o', pkg]);
  extracted = join(work, 'extracted');
  await mkdir(extracted);
  const untar = await runProgram('tar', [
    '--zstd',
    '-xf',
    pkg,
    '-C',
    extracted,
    'kdeliver.json',
    'kdeliver.json.sig',
  ]);
  if (untar.code !== 0) throw new Error(`tar: ${untar.stderr}`);
}, 20 * 60_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('cosign verify-blob', () => {
  it("accepts the package signature with the builder's public key", async () => {
    const result = await verifyBlob(join(work, 'kdeliver.pub'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Verified OK');
  });

  it('refuses it with another key', async () => {
    const result = await verifyBlob(join(work, 'other', 'kdeliver.pub'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('invalid signature');
  });
});
