import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Errors } from '@oclif/core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadSigner } from '../../../src/bundle/keys.ts';
import { writePackage } from '../../../src/bundle/package-writer.ts';
import Inspect from '../../../src/commands/inspect.ts';
import KeysGenerate from '../../../src/commands/keys/generate.ts';
import Verify from '../../../src/commands/verify.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';
import { packageOptions, sampleImages, tempDir } from './fixtures.ts';

const run = promisify(execFile);

interface CommandClass {
  run(argv: string[], opts: string): Promise<unknown>;
}

/** Runs a command class in-process, capturing what it prints and the exit code. */
async function runCommand(command: CommandClass, argv: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk) => ((stderr += String(chunk)), true));
  // oclif prints through console.log / console.error.
  const log = vi.spyOn(console, 'log').mockImplementation((line) => (stdout += `${String(line)}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((line) => (stderr += `${String(line)}\n`));
  try {
    await command.run(argv, REPO_ROOT);
    return { code: 0, stdout, stderr };
  } catch (thrown) {
    if (thrown instanceof Errors.ExitError) return { code: thrown.oclif.exit, stdout, stderr };
    throw thrown;
  } finally {
    for (const spy of [out, err, log, error]) spy.mockRestore();
  }
}

let dir: string;
let signed: string;
let unsigned: string;

beforeAll(async () => {
  dir = await tempDir();
  process.env.KDELIVER_TEST_PASSPHRASE = 'correct horse battery staple';
  const generated = await runCommand(KeysGenerate, [
    '--out',
    dir,
    '--password-env',
    'KDELIVER_TEST_PASSPHRASE',
    '--json',
  ]);
  expect(generated.code).toBe(0);
  const images = await sampleImages();
  const signer = await loadSigner(join(dir, 'kdeliver.key'), 'correct horse battery staple');
  signed = join(dir, 'shop.tar.zst');
  unsigned = join(dir, 'unsigned.tar.zst');
  await writePackage(signed, packageOptions(images, signer));
  await writePackage(unsigned, packageOptions(images, null));
});

afterEach(() => vi.restoreAllMocks());

describe('kdeliver keys generate', () => {
  it('writes an encrypted PKCS#8 key with mode 0600 that openssl opens with the passphrase', async () => {
    const key = await readFile(join(dir, 'kdeliver.key'), 'utf8');
    expect(key).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect((await stat(join(dir, 'kdeliver.key'))).mode & 0o777).toBe(0o600);
    const { stdout } = await run('openssl', [
      'pkey',
      '-in',
      join(dir, 'kdeliver.key'),
      '-passin',
      'env:KDELIVER_TEST_PASSPHRASE',
      '-pubout',
    ]);
    expect(stdout).toBe(await readFile(join(dir, 'kdeliver.pub'), 'utf8'));
    await expect(loadSigner(join(dir, 'kdeliver.key'))).rejects.toMatchObject({
      code: 'KEY_PASSPHRASE_REQUIRED',
    });
    await expect(loadSigner(join(dir, 'kdeliver.key'), 'wrong')).rejects.toMatchObject({
      code: 'KEY_PASSPHRASE_WRONG',
    });
  });

  it('refuses to replace a key pair without --force', async () => {
    const result = await runCommand(KeysGenerate, ['--out', dir, '--json']);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout).error.code).toBe('KEY_EXISTS');
  });

  it('writes an unencrypted key when no passphrase is asked for', async () => {
    const plainDir = join(dir, 'plain');
    const result = await runCommand(KeysGenerate, ['--out', plainDir, '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({
      encrypted: false,
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(await readFile(join(plainDir, 'kdeliver.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});

describe('kdeliver verify', () => {
  it('exits 0 for a good package and reports what it checked', async () => {
    const result = await runCommand(Verify, [signed, '--key', join(dir, 'kdeliver.pub'), '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      name: 'shop',
      version: '1.4.0',
      formatVersion: 3,
      images: 2,
    });
  });

  it('exits 4 for a package signed by another key, and 2 without any key', async () => {
    const other = join(dir, 'other');
    await runCommand(KeysGenerate, ['--out', other]);
    const wrongKey = await runCommand(Verify, [signed, '--key', join(other, 'kdeliver.pub')]);
    expect(wrongKey.code).toBe(4);
    expect(wrongKey.stderr).toContain('Error [PACKAGE_SIGNATURE_INVALID]');
    const noKey = await runCommand(Verify, [signed]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('KEY_REQUIRED');
  });

  it('refuses an unsigned package unless --insecure-skip-verify, which warns', async () => {
    const refused = await runCommand(Verify, [unsigned, '--key', join(dir, 'kdeliver.pub')]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('PACKAGE_UNSIGNED');
    const skipped = await runCommand(Verify, [unsigned, '--insecure-skip-verify', '--json']);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toMatch(/Warning: --insecure-skip-verify/);
    expect(JSON.parse(skipped.stdout).verifiedKey).toBeNull();
  });
});

describe('kdeliver inspect', () => {
  const key = () => ['--key', join(dir, 'kdeliver.pub')];

  it('shows stacks with resource counts by kind, images, signer, format and validation results', async () => {
    const result = await runCommand(Inspect, [signed, ...key(), '--json']);
    expect(result.code).toBe(0);
    const fingerprint = JSON.parse(
      (await runCommand(Verify, [signed, ...key(), '--json'])).stdout,
    ).verifiedKey;
    expect(JSON.parse(result.stdout)).toMatchObject({
      name: 'shop',
      formatVersion: 3,
      signer: fingerprint,
      signatureVerified: true,
      stacks: [
        { name: 'monitoring', resources: 0, kinds: {} },
        { name: 'shop', resources: 3, kinds: { ConfigMap: 1, Deployment: 1, Namespace: 1 } },
      ],
      images: [
        {
          reference: 'registry.example/shop/web:1.4',
          platforms: [
            { os: 'linux', architecture: 'amd64' },
            { architecture: 'arm64', variant: 'v8' },
          ],
        },
        { reference: 'registry.example/shop/worker:2.0', size: expect.any(Number) },
      ],
      validations: [{ stack: 'shop', rule: 'resources-limits', severity: 'warning' }],
    });
    const text = await runCommand(Inspect, [signed, ...key()]);
    expect(text.stdout).toContain('shop: 3 resources (1 ConfigMap, 1 Deployment, 1 Namespace)');
  });

  it('runs a read-only SELECT with --sql', async () => {
    const result = await runCommand(Inspect, [
      signed,
      ...key(),
      '--json',
      '--sql',
      'select kind, namespace from resources order by kind',
    ]);
    expect(JSON.parse(result.stdout)).toEqual({
      columns: ['kind', 'namespace'],
      rows: [
        ['ConfigMap', 'shop'],
        ['Deployment', 'shop'],
        ['Namespace', null],
      ],
    });
    const cte = await runCommand(Inspect, [
      signed,
      ...key(),
      '--json',
      '--sql',
      '/* count */ with r as (select * from resources) select count(*) from r',
    ]);
    expect(JSON.parse(cte.stdout).rows).toEqual([[3]]);
    const terminated = await runCommand(Inspect, [
      signed,
      ...key(),
      '--json',
      '--sql',
      'select count(*) from stacks; -- both',
    ]);
    expect(JSON.parse(terminated.stdout).rows).toEqual([[2]]);
  });

  it.each([
    ['delete from resources', 'SQL_NOT_READ_ONLY'],
    ['select 1; delete from stacks', 'SQL_NOT_READ_ONLY'],
    ['with doomed as (select 1) delete from stacks', 'SQL_FAILED'],
    ["attach database '/tmp/x.db' as x", 'SQL_NOT_READ_ONLY'],
    ['pragma query_only = off', 'SQL_NOT_READ_ONLY'],
  ])('refuses %s', async (sql, code) => {
    const result = await runCommand(Inspect, [signed, ...key(), '--json', '--sql', sql]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe(code);
  });
});
