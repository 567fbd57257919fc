import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { V1StorageClass } from '@kubernetes/client-node';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { SandboxBinaries } from './binaries.ts';
import type { SandboxPki } from './pki.ts';
import { freePort, httpStatus, waitUntil } from './probe.ts';
import { startDaemon, type TrackedProcess } from './processes.ts';

/** The name of the simulated node; kwok manages nodes carrying this annotation. */
export const SANDBOX_NODE = 'kdeliver-node-1';
const KWOK_ANNOTATION = 'kwok.x-k8s.io/node';

export interface ControlPlaneContext {
  binaries: SandboxBinaries;
  pki: SandboxPki;
  dataDir: string;
  logDir: string;
  /** Each daemon is reported as soon as it starts, so a later failure can stop it. */
  track: (process: TrackedProcess) => void;
}

export function writeKubeconfig(path: string, server: string, pki: SandboxPki): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kdeliver-sandbox', cluster: { server, 'certificate-authority': pki.caCert } }],
    users: [
      { name: 'kdeliver-admin', user: { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey } },
    ],
    contexts: [
      { name: 'kdeliver-sandbox', context: { cluster: 'kdeliver-sandbox', user: 'kdeliver-admin' } },
    ],
    'current-context': 'kdeliver-sandbox',
  };
  return writeFile(path, stringify(config), { mode: 0o600 });
}

export async function startEtcd(context: ControlPlaneContext): Promise<string> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const dataDir = join(context.dataDir, 'etcd');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const daemon = startDaemon(
    'etcd',
    context.binaries.etcd,
    [
      '--name=sandbox',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=sandbox=${peer}`,
      '--listen-metrics-urls=',
      // a throw-away site: durability is not worth the fsync latency
      '--unsafe-no-fsync',
    ],
    join(context.logDir, 'etcd.log'),
  );
  context.track(daemon);
  await waitUntil('etcd', async () => (await httpStatus(`${client}/health`)) === 200, {
    timeoutMs: 30_000,
    process: daemon,
  });
  return client;
}

/** Starts kube-apiserver and returns its URL once /readyz answers 200. */
export async function startApiServer(context: ControlPlaneContext, etcd: string): Promise<string> {
  const port = await freePort();
  const { pki } = context;
  const daemon = startDaemon(
    'kube-apiserver',
    context.binaries['kube-apiserver'],
    [
      `--etcd-servers=${etcd}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The endpoint reconciler refuses loopback addresses; nothing in the sandbox needs the kubernetes Service's endpoints.
      '--endpoint-reconciler-type=none',
      `--secure-port=${port}`,
      `--cert-dir=${join(context.dataDir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      '--profiling=false',
    ],
    join(context.logDir, 'kube-apiserver.log'),
  );
  context.track(daemon);
  const server = `https://127.0.0.1:${port}`;
  const tls = { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey };
  await waitUntil('kube-apiserver', async () => (await httpStatus(`${server}/readyz`, tls)) === 200, {
    timeoutMs: 90_000,
    process: daemon,
  });
  return server;
}

/** kube-controller-manager and kube-scheduler, both as the sandbox admin. */
export async function startControllers(context: ControlPlaneContext, kubeconfig: string): Promise<void> {
  const { pki } = context;
  const common = [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
  ];
  const controllerManager = startDaemon(
    'kube-controller-manager',
    context.binaries['kube-controller-manager'],
    [
      ...common,
      `--secure-port=${await freePort()}`,
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--use-service-account-credentials=false',
      // The defaults (20 requests/s, 5 workers) make a rollout of hundreds of Deployments
      // take minutes; a sandbox should be limited by the code under test, not by them.
      '--kube-api-qps=500',
      '--kube-api-burst=1000',
      '--concurrent-deployment-syncs=20',
      '--concurrent-replicaset-syncs=20',
    ],
    join(context.logDir, 'kube-controller-manager.log'),
  );
  context.track(controllerManager);
  const scheduler = startDaemon(
    'kube-scheduler',
    context.binaries['kube-scheduler'],
    [...common, `--secure-port=${await freePort()}`],
    join(context.logDir, 'kube-scheduler.log'),
  );
  context.track(scheduler);
}

/**
 * kwok plays the kubelet: it keeps the sandbox node Ready and moves pods scheduled onto
 * it to Running/Ready, so rollouts and health waits behave as on a real cluster.
 */
export async function startNodeSimulator(context: ControlPlaneContext, kubeconfig: string): Promise<void> {
  const kwok = startDaemon(
    'kwok',
    context.binaries.kwok,
    [
      `--kubeconfig=${kubeconfig}`,
      `--config=${context.binaries['kwok-stages.yaml']}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION}=fake`,
      '--cidr=10.244.0.0/16',
      '--node-ip=10.243.0.1',
      `--server-address=127.0.0.1:${await freePort()}`,
    ],
    join(context.logDir, 'kwok.log'),
  );
  context.track(kwok);

  // Loaded here, not at module level: the client costs most of a second of CLI start-up.
  const { CoreV1Api, KubeConfig, StorageV1Api } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const resources = { cpu: '32', memory: '256Gi', pods: '2000' };
  await core.createNode({
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: SANDBOX_NODE,
        annotations: { [KWOK_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          'kubernetes.io/hostname': SANDBOX_NODE,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          type: 'kwok',
        },
      },
      status: { allocatable: resources, capacity: resources },
    },
  });
  await waitUntil(
    `node ${SANDBOX_NODE}`,
    async () => {
      const node = await core.readNode({ name: SANDBOX_NODE }).catch(() => undefined);
      return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    },
    { timeoutMs: 60_000, process: kwok },
  );
  // The default StorageClass that kwok's volume stages serve: claims bind as on a real site.
  const storageClass = parse(
    await readFile(context.binaries['kwok-storage-class.yaml'], 'utf8'),
  ) as V1StorageClass;
  await config.makeApiClient(StorageV1Api).createStorageClass({ body: storageClass });
}
