/**
 * SHA-256 on a worker thread, for a pass over a package that hashes gigabytes: the main
 * thread reads, parses and copies while the second core hashes, instead of doing both.
 *
 * Bytes go through shared memory, not messages (a message per chunk costs about as much
 * as hashing it): a ring of slots that the main thread fills and marks full, and the
 * worker hashes and marks empty, each side waiting on the other with Atomics. A slot
 * marked END makes the worker post the digest of everything since the previous END.
 * update() copies the chunk before it returns, so the caller may hand it on at once.
 */
import { Worker } from 'node:worker_threads';

const SLOTS = 8;
const SLOT_BYTES = 1024 * 1024;
const EMPTY = 0;
const DATA = 1;
const END = 2;
const STOP = 3;

/** The worker's whole program: run as CommonJS from a string, so that it is part of every build. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { ring, state, lengths } = workerData;
let hash = createHash('sha256');
for (let slot = 0; ; slot = (slot + 1) % ${SLOTS}) {
  Atomics.wait(state, slot, ${EMPTY});
  const kind = Atomics.load(state, slot);
  if (kind === ${STOP}) break;
  if (kind === ${DATA}) hash.update(new Uint8Array(ring, slot * ${SLOT_BYTES}, lengths[slot]));
  else {
    parentPort.postMessage(hash.digest('hex'));
    hash = createHash('sha256');
  }
  Atomics.store(state, slot, ${EMPTY});
  Atomics.notify(state, slot);
}
`;

/** The thread and the ring it reads. */
interface HashThread {
  worker: Worker;
  ring: SharedArrayBuffer;
}

export class Sha256Worker {
  readonly #state = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  readonly #lengths = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  #thread: HashThread | undefined;
  /** Digests on their way, oldest first: one per END slot. */
  readonly #replies: { resolve: (digest: string) => void; reject: (error: Error) => void }[] = [];
  #failure: Error | undefined;
  #slot = 0;
  #filled = 0;
  /** Whether anything was sent since the last END (an abandoned digest must still be ended). */
  #started = false;

  /** The thread, started on first use: a pass that hashes nothing large (an upload lane) costs none. */
  #running(): HashThread {
    if (this.#thread) return this.#thread;
    const ring = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ring, state: this.#state, lengths: this.#lengths },
    });
    // Referenced only while it has work, so that an idle one never keeps the process alive.
    worker.unref();
    worker.on('message', (digest: string) => {
      this.#replies.shift()?.resolve(digest);
      if (this.#replies.length === 0 && !this.#started) worker.unref();
    });
    const fail = (error: Error) => {
      this.#failure ??= error;
      for (const reply of this.#replies.splice(0)) reply.reject(this.#failure);
      // Wakes a producer waiting for a slot: it then sees the failure.
      for (let slot = 0; slot < SLOTS; slot++) Atomics.store(this.#state, slot, EMPTY);
      Atomics.notify(this.#state, this.#slot);
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the hashing thread stopped')));
    this.#thread = { worker, ring };
    return this.#thread;
  }

  /** Copies `chunk` into the ring (waiting for a free slot when the worker is behind). */
  async update(chunk: Uint8Array): Promise<void> {
    const { worker, ring } = this.#running();
    if (!this.#started) worker.ref();
    this.#started = true;
    for (let offset = 0; offset < chunk.length;) {
      if (this.#filled === 0) await this.#free();
      const view = new Uint8Array(ring, this.#slot * SLOT_BYTES + this.#filled, SLOT_BYTES - this.#filled);
      const count = Math.min(view.length, chunk.length - offset);
      view.set(chunk.subarray(offset, offset + count));
      offset += count;
      this.#filled += count;
      if (this.#filled === SLOT_BYTES) this.#publish(DATA);
    }
  }

  /** The hex digest of everything given since the last digest. */
  async digest(): Promise<string> {
    this.#running();
    if (this.#filled > 0) this.#publish(DATA);
    await this.#free();
    const reply = new Promise<string>((resolve, reject) => this.#replies.push({ resolve, reject }));
    this.#publish(END);
    this.#started = false;
    return reply;
  }

  /** Drops what was given since the last digest, so the next digest starts afresh. */
  async abandon(): Promise<void> {
    if (this.#started) await this.digest();
  }

  /** Stops the worker (waiting for nothing it still had to do). */
  async close(): Promise<void> {
    if (!this.#thread || this.#failure) return;
    this.#filled = 0;
    await this.#free().catch(() => {});
    this.#publish(STOP);
    await this.#thread.worker.terminate();
  }

  #publish(kind: number): void {
    this.#lengths[this.#slot] = this.#filled;
    Atomics.store(this.#state, this.#slot, kind);
    Atomics.notify(this.#state, this.#slot);
    this.#slot = (this.#slot + 1) % SLOTS;
    this.#filled = 0;
  }

  /** Waits until the current slot is empty (the worker has hashed what was in it). */
  async #free(): Promise<void> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      const kind = Atomics.load(this.#state, this.#slot);
      if (kind === EMPTY) return;
      await Atomics.waitAsync(this.#state, this.#slot, kind).value;
    }
  }
}
