import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { KdeliverError, messageOf } from '../errors.ts';
import { apiError, isOk } from '../runtimes/kubernetes/api-errors.ts';
import type { KubeClient } from '../runtimes/kubernetes/client.ts';
import { MANAGED_BY_LABELS, SYSTEM_NAMESPACE, ensureSystemNamespace, stackKey } from './system-namespace.ts';

/**
 * One run per stack at a time, site-wide: a coordination.k8s.io/v1 Lease in
 * kdeliver-system, held while the run works and renewed every third of its duration. A
 * lease whose holder stopped renewing expires, so a crashed run blocks others only for
 * the lease duration; `forceUnlock` ends it at once. Expiry compares the lease's renew
 * time with this machine's clock, so large clock skew between operators shortens or
 * lengthens the wait.
 */

export interface LeaseHolder {
  identity: string;
  acquiredAt: string | undefined;
  renewedAt: string | undefined;
  durationSeconds: number;
}

interface LeaseObject {
  metadata: { name: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface AcquireOptions {
  /** Who holds it, shown to whoever is refused; by default `user@host pid N`. */
  identity?: string;
  durationSeconds?: number;
  signal?: AbortSignal;
}

const leasesPath = `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM_NAMESPACE}/leases`;

export function leaseName(stack: string): string {
  return `kdeliver-lock-${stackKey(stack)}`;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function defaultIdentity(): string {
  return `${localHolderPrefix()}${process.pid} (${randomBytes(3).toString('hex')})`;
}

function localHolderPrefix(): string {
  return `${userInfo().username}@${hostname()} pid `;
}

/**
 * A holder that was a process of this user on this machine which no longer runs (killed,
 * crashed): its lease can be taken over at once instead of after it expires.
 */
function deadLocalHolder(holder: LeaseHolder): boolean {
  const prefix = localHolderPrefix();
  if (!holder.identity.startsWith(prefix)) return false;
  const pid = Number(/^(\d+) /.exec(holder.identity.slice(prefix.length))?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function holderOf(lease: LeaseObject): LeaseHolder | undefined {
  const spec = lease.spec ?? {};
  if (!spec.holderIdentity) return undefined;
  return {
    identity: spec.holderIdentity,
    acquiredAt: spec.acquireTime,
    renewedAt: spec.renewTime,
    durationSeconds: spec.leaseDurationSeconds ?? 0,
  };
}

function expired(holder: LeaseHolder, now: number): boolean {
  const renewed = Date.parse(holder.renewedAt ?? holder.acquiredAt ?? '');
  return Number.isNaN(renewed) || renewed + holder.durationSeconds * 1000 < now;
}

async function readLease(
  client: KubeClient,
  stack: string,
  signal?: AbortSignal,
): Promise<LeaseObject | undefined> {
  const response = await client.request({ method: 'GET', path: `${leasesPath}/${leaseName(stack)}`, signal });
  if (response.status === 404) return undefined;
  if (!isOk(response)) throw apiError(response, 'reading the lock of', `stack ${stack}`);
  return response.body as LeaseObject;
}

export class StackLease {
  readonly stack: string;
  readonly identity: string;
  /** Aborted when the lease could not be renewed in time or was taken over: stop working then. */
  readonly lost: AbortSignal;
  private readonly client: KubeClient;
  private readonly durationSeconds: number;
  private readonly lostController = new AbortController();
  private lease: LeaseObject;
  private renewedAt: number;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    client: KubeClient,
    stack: string,
    identity: string,
    durationSeconds: number,
    lease: LeaseObject,
  ) {
    this.client = client;
    this.stack = stack;
    this.identity = identity;
    this.durationSeconds = durationSeconds;
    this.lease = lease;
    this.renewedAt = Date.now();
    this.lost = this.lostController.signal;
    this.timer = setInterval(() => void this.renew(), (durationSeconds * 1000) / 3);
    this.timer.unref();
  }

  /** Takes the stack's lease, or fails with kind `locked` naming the current holder. */
  static async acquire(client: KubeClient, stack: string, options: AcquireOptions = {}): Promise<StackLease> {
    const identity = options.identity ?? defaultIdentity();
    const durationSeconds = options.durationSeconds ?? 60;
    const { signal } = options;
    await ensureSystemNamespace(client, signal);
    // Creating and taking over race with other runs; the loser of a race reads again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await readLease(client, stack, signal);
      const holder = current && holderOf(current);
      if (holder && holder.identity !== identity && !expired(holder, Date.now()) && !deadLocalHolder(holder))
        throw lockedBy(stack, holder);
      const now = microTime(new Date());
      const spec = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: (current?.spec?.leaseTransitions ?? -1) + 1,
      };
      const metadata = { name: leaseName(stack), namespace: SYSTEM_NAMESPACE, labels: MANAGED_BY_LABELS };
      const response = current
        ? await client.request({
            method: 'PUT',
            path: `${leasesPath}/${leaseName(stack)}`,
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { ...metadata, resourceVersion: current.metadata.resourceVersion },
              spec,
            },
            signal,
          })
        : await client.request({
            method: 'POST',
            path: leasesPath,
            body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec },
            signal,
          });
      if (response.status === 409) continue;
      if (!isOk(response)) throw apiError(response, 'taking the lock of', `stack ${stack}`);
      return new StackLease(client, stack, identity, durationSeconds, response.body as LeaseObject);
    }
    throw new KdeliverError(
      'locked',
      'STACK_LOCK_CONTENDED',
      `the lock of stack "${stack}" keeps changing hands`,
      {
        hint: 'Another run is starting at the same moment; try again shortly.',
      },
    );
  }

  /** Ends the lease, unless someone else has taken it over meanwhile. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    if (this.lost.aborted) return;
    const response = await this.client.request({
      method: 'DELETE',
      path: `${leasesPath}/${leaseName(this.stack)}`,
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { resourceVersion: this.lease.metadata.resourceVersion },
      },
    });
    if (response.status === 404 || response.status === 409) return;
    if (!isOk(response)) throw apiError(response, 'releasing the lock of', `stack ${this.stack}`);
  }

  /** Extends the lease; failures are retried on the next tick until the lease would have run out. */
  async renew(): Promise<void> {
    if (this.lost.aborted) return;
    try {
      const response = await this.client.request({
        method: 'PUT',
        path: `${leasesPath}/${leaseName(this.stack)}`,
        body: {
          ...this.lease,
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          spec: { ...this.lease.spec, renewTime: microTime(new Date()) },
        },
        signal: this.lost,
      });
      if (response.status === 409 || response.status === 404) {
        const holder = await readLease(this.client, this.stack).then((lease) => lease && holderOf(lease));
        return this.lose(
          `it was taken over${holder ? ` by ${holder.identity}` : ' (the lease was deleted)'}`,
        );
      }
      if (!isOk(response)) throw apiError(response, 'renewing the lock of', `stack ${this.stack}`);
      this.lease = response.body as LeaseObject;
      this.renewedAt = Date.now();
    } catch (error) {
      if (Date.now() - this.renewedAt > this.durationSeconds * 1000) {
        this.lose(`it could not be renewed for ${this.durationSeconds} s: ${messageOf(error)}`);
      }
    }
  }

  private lose(why: string): void {
    clearInterval(this.timer);
    this.lostController.abort(
      new KdeliverError('locked', 'STACK_LOCK_LOST', `the lock of stack "${this.stack}" was lost: ${why}`, {
        hint: 'Another run may be changing the stack now; check `kdeliver history` before running again.',
      }),
    );
  }
}

function lockedBy(stack: string, holder: LeaseHolder): KdeliverError {
  return new KdeliverError(
    'locked',
    'STACK_LOCKED',
    `stack "${stack}" is locked by ${holder.identity} since ${holder.acquiredAt ?? 'an unknown time'}` +
      ` (last renewed ${holder.renewedAt ?? 'never'}; the lock expires ${holder.durationSeconds} s after that)`,
    {
      hint:
        'Wait for that run to finish; if it died, the lock expires on its own once it is not renewed.' +
        ` If that run is certainly gone (e.g. killed on another machine), remove the lock at once: kdeliver state unlock --stack ${stack} --force`,
    },
  );
}

/** Removes the stack's lease whoever holds it, returning who did; for a holder that died. */
export async function forceUnlock(
  client: KubeClient,
  stack: string,
  signal?: AbortSignal,
): Promise<LeaseHolder | undefined> {
  const lease = await readLease(client, stack, signal);
  if (!lease) return undefined;
  const response = await client.request({
    method: 'DELETE',
    path: `${leasesPath}/${leaseName(stack)}`,
    signal,
  });
  if (!isOk(response) && response.status !== 404) throw apiError(response, 'unlocking', `stack ${stack}`);
  return holderOf(lease);
}
