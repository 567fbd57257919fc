import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../util/exec.ts';

/** File names of the sandbox's certificates and keys, all inside one directory. */
export interface SandboxPki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

const SERVER_NAMES = [
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
  'IP:127.0.0.1',
  'IP:::1',
  'IP:10.0.0.1',
];

async function openssl(dir: string, args: string[]): Promise<void> {
  await runCommand('openssl', args, { cwd: dir });
}

/**
 * One self-signed CA signs the API server's and the registry's serving certificate
 * (loopback names) and an admin client certificate in group system:masters.
 */
export async function createPki(dir: string): Promise<SandboxPki> {
  const pki: SandboxPki = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc'];
  await openssl(dir, [
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    pki.caKey,
    '-out',
    pki.caCert,
    '-days',
    '3650',
    '-subj',
    '/CN=kdeliver-sandbox-ca',
  ]);

  const serverExt = join(dir, 'server.ext');
  await writeFile(
    serverExt,
    `subjectAltName=${SERVER_NAMES.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n`,
  );
  await issue(dir, pki, 'server', '/CN=kube-apiserver', serverExt);

  const clientExt = join(dir, 'client.ext');
  await writeFile(
    clientExt,
    'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n',
  );
  await issue(dir, pki, 'admin', '/O=system:masters/CN=kdeliver-admin', clientExt);

  await openssl(dir, [
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    pki.serviceAccountKey,
  ]);
  await openssl(dir, ['pkey', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub]);
  return pki;
}

async function issue(
  dir: string,
  pki: SandboxPki,
  name: string,
  subject: string,
  extFile: string,
): Promise<void> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  await openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-noenc',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    subject,
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAcreateserial',
    '-out',
    join(dir, `${name}.crt`),
    '-days',
    '3650',
    '-extfile',
    extFile,
  ]);
}
