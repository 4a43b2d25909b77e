// One virtio-9p device as a 9P2000.L client: each request is one chain, the T-message
// device-readable and msize bytes of room for the R-message device-writable (as Linux's
// net/9p/trans_virtio.c and QEMU's hw/9pfs use the single request queue). A few request
// slots, each with its own tag and preallocated DMA buffers, so several requests are in
// flight with distinct tags and the request path allocates no DMA memory. Every reply's
// size, tag and type is checked; Rlerror becomes a NinepError carrying the errno.

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { Virtqueue } from "../../ring/virtqueue.js";
import { RequestQueue, type PendingRequest } from "../../ring/requests.js";
import type { VirtioDevice } from "../virtio/device.js";
import type { RemoveReason } from "../virtio/driver.js";
import { DeviceBrokenError, DeviceRemovedError, DeviceStateError, RequestTimeoutError } from "../virtio/errors.js";
import { RequestWatchdog, type WatchedRequest } from "../virtio/request-watchdog.js";
import { MessageReader, MessageWriter } from "./ninep-codec.js";
import { NinepError, NinepProtocolError } from "./errors.js";
import { HEADER_BYTES, NOTAG, NOFID, Op, VERSION_9P2000_L, opName } from "./ninep-spec.js";

export interface NinepOptions {
  /** msize asked for in Tversion (the server may lower it). Default 65536. */
  readonly msize?: number;
  /** Requests in flight at most (each a tag and 2 x msize of DMA memory). Default 4. */
  readonly slots?: number;
  /** uname of Tattach. Default "root" (n_uname 0). */
  readonly uname?: string;
  /** aname of Tattach. Default "". */
  readonly aname?: string;
  /** A request unanswered this long (ms) fails with RequestTimeoutError and the device is
   * reset and re-initialized (a new session: open files are gone). Default 15000. */
  readonly timeoutMs?: number;
  /** Re-initializations after timeouts with no answer in between, before the device is
   * given up (DeviceBrokenError). Default 3. */
  readonly maxRestarts?: number;
}

interface Slot {
  readonly tag: number;
  readonly tx: DmaBuffer;
  readonly rx: DmaBuffer;
}

export interface NinepStats {
  readonly requests: number;
  readonly errors: number;
  /** Most requests in flight at once. */
  readonly maxInFlight: number;
  /** Requests that failed for their deadline. */
  readonly timeouts: number;
  /** Re-initializations after timeouts. */
  readonly restarts: number;
}

/** The fid of the attached root. */
export const ROOT_FID = 0;
const MIN_MSIZE = 4096;

export class NinepClient {
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #options: NinepOptions;
  readonly #askedMsize: number;
  #msize: number;
  #queue: RequestQueue | null = null;
  #slots: Slot[] = [];
  #free: Slot[] = [];
  #waiters: ((slot: Slot | Error) => void)[] = [];
  #broken: Error | null = null;
  /** Set once the timeout budget is spent: kept across re-initializations. */
  #givenUp: Error | null = null;
  #closed = false;
  #session: Promise<void> | null = null;
  /** Bumped at each new session: fids of an older one are gone. */
  #generation = 0;
  #inFlight = 0;
  #stats = { requests: 0, errors: 0, maxInFlight: 0, timeouts: 0, restarts: 0 };
  readonly #watchdog: RequestWatchdog;
  readonly #maxRestarts: number;
  /** Re-initializations after timeouts since the last answer. */
  #timeoutRestarts = 0;
  /** The mount tag from the config (VIRTIO_9P_F_MOUNT_TAG), "" without one. */
  mountTag = "";

  constructor(device: VirtioDevice, options: NinepOptions = {}) {
    const msize = options.msize ?? 65536;
    if (!Number.isInteger(msize) || msize < MIN_MSIZE) throw new RangeError(`msize ${msize} must be an integer of at least ${MIN_MSIZE}`);
    const slots = options.slots ?? 4;
    if (!Number.isInteger(slots) || slots < 1 || slots > 64) throw new RangeError(`slots ${slots} must be 1 to 64`);
    this.#device = device;
    this.#platform = device.platform;
    this.#options = { ...options, slots };
    this.#askedMsize = msize;
    this.#msize = msize;
    const timeoutMs = options.timeoutMs ?? 15000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RangeError(`timeoutMs ${timeoutMs} must be a positive integer`);
    const maxRestarts = options.maxRestarts ?? 3;
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw new RangeError(`maxRestarts ${maxRestarts} must be 0 or more`);
    this.#maxRestarts = maxRestarts;
    // While requests are out, the watchdog drains the queue now and then (a lost
    // interrupt costs time) and fails requests past their deadline.
    this.#watchdog = new RequestWatchdog({
      platform: this.#platform,
      location: device.location,
      timeoutMs,
      poll: () => this.onUsed(),
      onExpired: (count) => this.#expired(count),
    });
  }

  get location(): string {
    return this.#device.location;
  }

  /** The msize both sides agreed on (after the session started). */
  get msize(): number {
    return this.#msize;
  }

  get broken(): Error | null {
    return this.#givenUp ?? this.#broken;
  }

  get generation(): number {
    return this.#generation;
  }

  stats(): NinepStats {
    return { ...this.#stats };
  }

  /** Resolves once Tversion and Tattach succeeded (rejects with why they did not). */
  ready(): Promise<void> {
    const broken = this.broken;
    if (broken !== null) return Promise.reject(broken);
    if (this.#session !== null) return this.#session;
    return Promise.reject(this.#refusal() ?? new DeviceStateError(this.location, this.#device.state, "start a 9P session"));
  }

  /** Called by the driver during probe. */
  attach(queue: Virtqueue<PendingRequest>, mountTag: string): void {
    this.#queue = new RequestQueue(queue);
    this.mountTag = mountTag;
    this.#broken = null;
  }

  /** DRIVER_OK: slots get their buffers, the session starts. */
  start(): void {
    const slots = this.#options.slots ?? 4;
    try {
      for (let i = 0; i < slots; i++) {
        const tx = this.#platform.dma.alloc(this.#askedMsize);
        const rx = this.#platform.dma.alloc(this.#askedMsize);
        this.#slots.push({ tag: i + 1, tx, rx });
      }
    } catch (error) {
      this.#freeSlots();
      this.#break(asError(error));
      return;
    }
    this.#free = [...this.#slots];
    this.#generation++;
    this.#session = this.#handshake();
    this.#session.catch(() => {});
  }

  /** remove(): the device is reset; every request fails, buffers are freed. */
  detach(reason: RemoveReason): void {
    const error = new DeviceRemovedError(this.location, reason === "unbind" ? "device unbound" : "device reset");
    if (reason === "unbind") this.#closed = true;
    this.#queue?.detachAll(error);
    this.#watchdog.failAll(error);
    this.#queue = null;
    for (const waiter of this.#waiters.splice(0)) waiter(error);
    this.#freeSlots();
    this.#session = null;
  }

  onUsed(): void {
    const queue = this.#queue;
    if (queue === null) return;
    queue.onInterrupt();
    if (queue.failure !== null && this.#broken === null) this.#break(queue.failure);
  }

  #freeSlots(): void {
    for (const slot of this.#slots) {
      this.#platform.dma.free(slot.tx);
      this.#platform.dma.free(slot.rx);
    }
    this.#slots = [];
    this.#free = [];
  }

  async #handshake(): Promise<void> {
    // Tversion: msize[4] version[s] -> Rversion msize[4] version[s] (tag NOTAG).
    const agreed = await this.#send(Op.VERSION, (w) => w.u32(this.#askedMsize).str(VERSION_9P2000_L), (r) => {
      const msize = r.u32();
      const version = r.str();
      return { msize, version };
    }, NOTAG);
    if (agreed.version !== VERSION_9P2000_L) {
      throw this.#break(new NinepProtocolError("bad-version", `server speaks ${JSON.stringify(agreed.version)}, not ${VERSION_9P2000_L}`, { version: agreed.version }));
    }
    if (agreed.msize < MIN_MSIZE || agreed.msize > this.#askedMsize) {
      throw this.#break(new NinepProtocolError("bad-msize", `Rversion msize ${agreed.msize} (asked ${this.#askedMsize}, least ${MIN_MSIZE})`, { msize: agreed.msize }));
    }
    this.#msize = agreed.msize;
    // Tattach: fid[4] afid[4] uname[s] aname[s] n_uname[4] -> Rattach qid[13].
    await this.#send(Op.ATTACH, (w) => w.u32(ROOT_FID).u32(NOFID).str(this.#options.uname ?? "root").str(this.#options.aname ?? "").u32(0), (r) => r.qid(), undefined, "/");
  }

  #refusal(): Error | null {
    if (this.#closed) return new DeviceRemovedError(this.location, "device unbound");
    if (this.broken !== null) return this.broken;
    if (this.#queue === null || !this.#device.live) return new DeviceStateError(this.location, this.#device.state, "send a 9P request");
    return null;
  }

  #takeSlot(): Promise<Slot> {
    const refused = this.#refusal();
    if (refused !== null) return Promise.reject(refused);
    const slot = this.#free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise<Slot>((resolve, reject) => {
      this.#waiters.push((s) => (s instanceof Error ? reject(s) : resolve(s)));
    });
  }

  #releaseSlot(slot: Slot): void {
    if (!this.#slots.includes(slot)) return; // freed by a reset meanwhile
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(slot);
    else this.#free.push(slot);
  }

  /**
   * One T-message of `type` built by `build`, its reply parsed by `parse` (which reads
   * the body in place: the slot's buffer is reused once it returns). `path` names the
   * request in a NinepError.
   */
  async request<T>(type: number, build: (w: MessageWriter) => void, parse: (r: MessageReader) => T, path = ""): Promise<T> {
    await this.ready();
    return this.#send(type, build, parse, undefined, path);
  }

  async #send<T>(type: number, build: (w: MessageWriter) => void, parse: (r: MessageReader) => T, tag?: number, path = ""): Promise<T> {
    const slot = await this.#takeSlot();
    const generation = this.#generation;
    let lost = false;
    try {
      const sentTag = tag ?? slot.tag;
      const msize = this.#msize;
      const w = new MessageWriter(slot.tx.bytes.subarray(0, msize), type, sentTag);
      build(w);
      const length = w.end();
      const queue = this.#queue!;
      this.#stats.requests++;
      this.#inFlight++;
      if (this.#inFlight > this.#stats.maxInFlight) this.#stats.maxInFlight = this.#inFlight;
      let used: number;
      let watched: WatchedRequest | null = null;
      try {
        const answer = queue.enqueue([{ phys: slot.tx.phys, len: length }], [{ phys: slot.rx.phys, len: msize }], (request) => {
          watched = this.#watchdog.watch((error) => {
            // Past its deadline the chain stays the device's (its slot with it) until a reset.
            if (error instanceof RequestTimeoutError) lost = true;
            request.reject(error);
          });
        });
        queue.flush();
        used = await answer;
      } finally {
        this.#inFlight--;
        (watched as WatchedRequest | null)?.done();
      }
      if (generation !== this.#generation || !this.#slots.includes(slot)) throw new DeviceRemovedError(this.location, "device reset");
      this.#timeoutRestarts = 0;
      return this.#reply(slot.rx.bytes, used, type, sentTag, parse, path);
    } catch (error) {
      if (error instanceof NinepError) this.#stats.errors++;
      throw error;
    } finally {
      if (!lost) this.#releaseSlot(slot);
    }
  }

  /** Requests passed their deadline: the device keeps their chains and only a reset
   * takes them back (§2.4): re-initialize it (a new session), a few times at most. */
  #expired(count: number): void {
    this.#stats.timeouts += count;
    if (this.#closed || this.broken !== null) return;
    if (this.#timeoutRestarts >= this.#maxRestarts) {
      this.#givenUp = this.#break(new DeviceBrokenError(this.location, `9P requests timed out after ${this.#timeoutRestarts} re-initialization(s): given up`));
      return;
    }
    this.#timeoutRestarts++;
    this.#stats.restarts++;
    void this.#device.restart();
  }

  /** Checks the reply's header: size = used length, the tag sent, type T+1 or Rlerror. */
  #reply<T>(bytes: Uint8Array, used: number, type: number, tag: number, parse: (r: MessageReader) => T, path: string): T {
    const what = opName(type);
    if (used < HEADER_BYTES) throw this.#break(new NinepProtocolError("short-reply", `${what}: reply of ${used} bytes (header is ${HEADER_BYTES})`, { used }));
    const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
    const size = view.getUint32(0, true);
    const rtype = view.getUint8(4);
    const rtag = view.getUint16(5, true);
    if (size > used) throw this.#break(new NinepProtocolError("short-reply", `${what}: reply says ${size} bytes, device wrote ${used}`, { size, used }));
    if (size !== used) throw this.#break(new NinepProtocolError("size-mismatch", `${what}: reply says ${size} bytes, device wrote ${used}`, { size, used }));
    if (rtag !== tag) throw this.#break(new NinepProtocolError("wrong-tag", `${what}: reply tag ${rtag}, request tag ${tag}`, { tag, replyTag: rtag }));
    try {
      const r = new MessageReader(bytes, size, what);
      if (rtype === Op.LERROR) {
        const errno = r.u32();
        this.#expectEnd(r, what);
        throw new NinepError(what, errno, path);
      }
      if (rtype !== type + 1) throw new NinepProtocolError("wrong-type", `${what}: reply type ${opName(rtype)} (${rtype}), expected ${opName(type + 1)}`, { type: rtype });
      const value = parse(r);
      this.#expectEnd(r, what);
      return value;
    } catch (error) {
      if (error instanceof NinepProtocolError) throw this.#break(error);
      throw error;
    }
  }

  #expectEnd(r: MessageReader, what: string): void {
    if (r.remaining !== 0) throw new NinepProtocolError("size-mismatch", `${what}: ${r.remaining} byte(s) after the last field`, { extra: r.remaining });
  }

  /** A broken protocol: this client refuses further requests until the device is re-initialized. */
  #break(error: Error): Error {
    if (this.#broken === null) {
      this.#broken = error;
      this.#device.reportError(error);
      for (const waiter of this.#waiters.splice(0)) waiter(error);
    }
    return error;
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
