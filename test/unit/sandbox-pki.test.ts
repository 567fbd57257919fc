import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPki } from '../../src/sandbox/pki.ts';
import { runProgram } from '../helpers/cli.ts';

describe('sandbox certificates', () => {
  it('issues a loopback serving certificate and an admin client certificate that openssl verifies', async () => {
    const pki = await createPki(await mkdtemp(join(tmpdir(), 'kdeliver-pki-')));
    for (const [cert, purpose] of [
      [pki.serverCert, 'sslserver'],
      [pki.adminCert, 'sslclient'],
    ] as const) {
      const verified = await runProgram('openssl', [
        'verify',
        '-purpose',
        purpose,
        '-CAfile',
        pki.caCert,
        cert,
      ]);
      expect(verified.stdout.trim()).toBe(`${cert}: OK`);
    }
    const server = await runProgram('openssl', [
      'x509',
      '-in',
      pki.serverCert,
      '-noout',
      '-ext',
      'subjectAltName',
    ]);
    expect(server.stdout).toContain('IP Address:127.0.0.1');
    expect(server.stdout).toContain('DNS:localhost');
    const admin = await runProgram('openssl', ['x509', '-in', pki.adminCert, '-noout', '-subject']);
    expect(admin.stdout).toMatch(/O\s*=\s*system:masters/);
    // The service-account public key is the one derived from the signing key.
    const derived = await runProgram('openssl', ['pkey', '-in', pki.serviceAccountKey, '-pubout']);
    expect(derived.stdout).toBe(await readFile(pki.serviceAccountPub, 'utf8'));
  });
});
