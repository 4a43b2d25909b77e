// One virtio memory device (VIRTIO 1.2 §5.15) as the firmware sees it. The device manages a
// region of guest-physical memory in blocks; the host asks for an amount (`requested_size`)
// and the driver plugs or unplugs blocks to match, one request at a time on the
// guest-request queue. A plugged block is mapped as RAM and added to the platform's page
// pool; a block is unplugged only when every page of it is free, and is taken out of the pool
// and unmapped before the request goes out, so unplugged memory is never touched (§5.15.6.1).

import type { DmaBuffer, MemoryHotplug, Platform, TimerId } from "../../platform/platform.js";
import type { PagePool } from "../../platform/page-pool.js";
import type { Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { drainQueue } from "../virtio/drain.js";
import type { RemoveReason } from "../virtio/driver.js";
import { readMemConfig, type MemConfigValues } from "./mem-config.js";
import { MAX_BLOCKS_PER_REQUEST, MemRequest, MemResponse, REQUEST_BYTES, RESPONSE_BYTES, STATE_NAMES, type BlockState } from "./mem-spec.js";
import {
  requestChain, requestName, responseState, responseType, writeRequest,
  type MemOp, type MemOptions, type MemStats,
} from "./mem-request.js";

export type { MemOp, MemOptions, MemStats } from "./mem-request.js";
import { MemDeviceError, MemRequestError, NoHotplugError } from "./errors.js";

const UNPLUGGED = 0;
const PLUGGED = 1;
/** A request about the block was out when the device was reset: its state is not known. */
const UNKNOWN = 2;

export class MemDevice {
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #pool: PagePool;
  readonly #hotplug: MemoryHotplug;
  readonly #retryMs: number;
  #queue: Virtqueue<MemOp> | null = null;
  #buffer: DmaBuffer | null = null;
  #config: MemConfigValues | null = null;
  /** Per block: UNPLUGGED, PLUGGED or UNKNOWN (kept across resets: §5.15.5.2 the device keeps it). */
  #blocks = new Uint8Array(0);
  #out: MemOp | null = null;
  readonly #pending: MemOp[] = [];
  #live = false;
  #closed = false;
  #broken: Error | null = null;
  #lastError: Error | null = null;
  /** NACK: the device will take no more plugs until its config changes. */
  #refused = false;
  #retryTimer: TimerId | null = null;
  /** The first start after bind: unknown plugged memory is unplugged (§5.15.5.1). */
  #fresh = true;
  #stats = { plugRequests: 0, unplugRequests: 0, unplugAllRequests: 0, stateRequests: 0, nacks: 0, busy: 0, errors: 0, configChanges: 0 };

  constructor(device: VirtioDevice, options: MemOptions = {}) {
    const { pages, memoryHotplug } = device.platform;
    if (pages === undefined || memoryHotplug === undefined) throw new NoHotplugError(device.location);
    this.#device = device;
    this.#platform = device.platform;
    this.#pool = pages;
    this.#hotplug = memoryHotplug;
    this.#retryMs = options.retryMs ?? 200;
  }

  get location(): string {
    return this.#device.location;
  }

  get broken(): Error | null {
    return this.#broken;
  }

  /** The last ERROR answer or device inconsistency (the device stays usable). */
  get lastError(): Error | null {
    return this.#lastError;
  }

  /** The device's configuration as last read. */
  get config(): MemConfigValues | null {
    return this.#config;
  }

  /** Bytes this driver holds plugged (mapped and in the page pool). */
  get pluggedBytes(): number {
    return this.#count(PLUGGED) * (this.#config?.blockSize ?? 0);
  }

  /** True when nothing is out and the plugged size is as close to the request as it can be. */
  get settled(): boolean {
    if (this.#out !== null || this.#pending.length > 0 || this.#config === null) return false;
    return this.#nextStep() === null;
  }

  stats(): MemStats {
    return { ...this.#stats };
  }

  /** The state of every block: "plugged", "unplugged", or "unknown" (after a reset, until asked). */
  blockStates(): string[] {
    return Array.from(this.#blocks, (b) => (b === PLUGGED ? "plugged" : b === UNPLUGGED ? "unplugged" : "unknown"));
  }

  /** Asks the device the state of `blocks` blocks from `addr` (a STATE request, §5.15.6.4). */
  state(addr: number, blocks: number): Promise<BlockState> {
    return new Promise((resolve, reject) => {
      const refusal = this.#broken ?? (this.#live ? null : new MemDeviceError(this.location, "device not running"));
      if (refusal) return reject(refusal);
      this.#pending.push({ type: MemRequest.STATE, addr, blocks, resolve, reject });
      this.#pump();
    });
  }

  /** Called by the driver during probe: read and check the configuration (§5.15.5). */
  attach(queue: Virtqueue<MemOp>): void {
    this.#queue = queue;
    this.#broken = null;
    this.#live = false;
    this.#refused = false;
    this.#buffer = this.#platform.dma.alloc(REQUEST_BYTES + RESPONSE_BYTES, 8);
    const config = readMemConfig(this.#device);
    const blocks = config.regionSize / config.blockSize;
    if (this.#config !== null && (this.#config.addr !== config.addr || this.#config.blockSize !== config.blockSize || this.#config.regionSize !== config.regionSize)) {
      // §5.15.4.2: these never change outside a system reset; a device that says otherwise is new to us.
      throw new MemDeviceError(this.location, `region changed across a device reset (0x${this.#config.addr.toString(16)}+${this.#config.regionSize} -> 0x${config.addr.toString(16)}+${config.regionSize})`);
    }
    if (this.#blocks.length !== blocks) this.#blocks = new Uint8Array(blocks);
    this.#config = config;
  }

  /** Called by the driver once DRIVER_OK is set. */
  start(): void {
    if (this.#closed) return;
    this.#live = true;
    const config = this.#config!;
    if (this.#fresh) {
      this.#fresh = false;
      // §5.15.5.1: memory still plugged that this driver knows nothing of: unplug it all.
      if (config.pluggedSize > 0) this.#pending.push({ type: MemRequest.UNPLUG_ALL, addr: config.addr, blocks: 0 });
    } else {
      // After a reset the device kept every block's state (§5.15.5.2); ask about the blocks a
      // request was out for.
      this.#askUnknown();
    }
    this.#pump();
  }

  /** The device changed requested_size or usable_region_size. */
  configChanged(): void {
    this.#stats.configChanges++;
    if (!this.#live || this.#broken !== null) return;
    try {
      const next = readMemConfig(this.#device);
      const old = this.#config!;
      if (next.addr !== old.addr || next.blockSize !== old.blockSize || next.regionSize !== old.regionSize) {
        throw new MemDeviceError(this.location, "block_size, addr or region_size changed (§5.15.4.2: they cannot)");
      }
      this.#config = next;
    } catch (error) {
      this.#break(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#refused = false;
    this.#pump();
  }

  onUsed(): void {
    const queue = this.#queue;
    if (queue === null || this.#broken !== null) return;
    try {
      drainQueue(queue, (c) => this.#answer(c));
    } catch (error) {
      this.#break(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#pump();
  }

  /**
   * Called by the driver from remove(): the device was reset. Block states survive a reset
   * (§5.15.5.2), so plugged blocks stay mapped and in the pool; a block whose request was out
   * is UNKNOWN until a STATE request after the re-initialization says.
   */
  detach(reason: RemoveReason): void {
    this.#live = false;
    this.#clearRetry();
    this.#queue?.detachAll();
    this.#queue = null;
    const out = this.#out;
    this.#out = null;
    if (out !== null) {
      if (out.type === MemRequest.PLUG || out.type === MemRequest.UNPLUG) this.#mark(out.addr, out.blocks, UNKNOWN);
      if (out.type === MemRequest.UNPLUG_ALL) this.#fresh = true;
      out.reject?.(new MemDeviceError(this.location, "device reset"));
    }
    for (const op of this.#pending.splice(0)) op.reject?.(new MemDeviceError(this.location, "device reset"));
    if (this.#buffer !== null) this.#platform.dma.free(this.#buffer);
    this.#buffer = null;
    if (reason === "unbind") {
      this.#closed = true;
      // What is free is taken out of the pool; pages in use stay (the memory stays plugged).
      const bs = this.#config?.blockSize ?? 0;
      for (let i = 0; i < this.#blocks.length; i++) {
        if (this.#blocks[i] !== PLUGGED) continue;
        const addr = this.#config!.addr + i * bs;
        if (this.#pool.removeRegion(addr, bs)) {
          this.#hotplug.unmap(addr, bs);
          this.#blocks[i] = UNPLUGGED;
        }
      }
    }
  }

  /** Sends the next request if none is out: the application's first, then following the target. */
  #pump(): void {
    if (!this.#live || this.#broken !== null || this.#out !== null || this.#queue === null || !this.#device.live) return;
    const op = this.#pending.shift() ?? this.#nextStep();
    if (op === null) {
      // Less wanted than plugged, but the blocks are in use: look again later.
      const c = this.#config;
      if (c !== null && c.requestedSize < this.pluggedBytes) this.#retryLater();
      return;
    }
    if (op.type === MemRequest.UNPLUG) {
      // Out of the pool and unmapped before the device may take it (§5.15.6.1).
      const bs = this.#config!.blockSize;
      for (let b = 0; b < op.blocks; b++) {
        const addr = op.addr + b * bs;
        if (!this.#pool.removeRegion(addr, bs)) throw new MemDeviceError(this.location, `block 0x${addr.toString(16)} in use`);
        this.#hotplug.unmap(addr, bs);
      }
      this.#mark(op.addr, op.blocks, UNKNOWN);
    }
    this.#send(op);
  }

  /** The request that moves plugged memory towards requested_size, or null. */
  #nextStep(): MemOp | null {
    const c = this.#config!;
    const bs = c.blockSize;
    const plugged = this.#count(PLUGGED) * bs;
    if (this.#count(UNKNOWN) > 0) return null; // wait for the STATE answers
    if (c.requestedSize > plugged && !this.#refused) {
      const usable = Math.min(c.usableRegionSize, c.regionSize) / bs;
      const want = Math.min((c.requestedSize - plugged) / bs, MAX_BLOCKS_PER_REQUEST);
      for (let i = 0; i < usable; i++) {
        if (this.#blocks[i] !== UNPLUGGED) continue;
        let n = 1;
        while (n < want && i + n < usable && this.#blocks[i + n] === UNPLUGGED) n++;
        return { type: MemRequest.PLUG, addr: c.addr + i * bs, blocks: n };
      }
      return null;
    }
    if (c.requestedSize < plugged) {
      // The highest block whose pages are all free.
      for (let i = this.#blocks.length - 1; i >= 0; i--) {
        if (this.#blocks[i] === PLUGGED && this.#pool.regionFree(c.addr + i * bs, bs)) {
          return { type: MemRequest.UNPLUG, addr: c.addr + i * bs, blocks: 1 };
        }
      }
    }
    return null;
  }

  #send(op: MemOp): void {
    const buffer = this.#buffer!;
    writeRequest(buffer, op);
    this.#out = op;
    if (op.type === MemRequest.PLUG) this.#stats.plugRequests++;
    else if (op.type === MemRequest.UNPLUG) this.#stats.unplugRequests++;
    else if (op.type === MemRequest.UNPLUG_ALL) this.#stats.unplugAllRequests++;
    else this.#stats.stateRequests++;
    try {
      const chain = requestChain(buffer);
      this.#queue!.add(chain.out, chain.in, op);
      this.#queue!.kick();
    } catch (error) {
      this.#break(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** One response (§5.15.6): its length and type checked before anything is believed. */
  #answer({ token: op, len }: Completion<MemOp>): void {
    if (op !== this.#out) throw new MemDeviceError(this.location, "a response for a request that is not out");
    this.#out = null;
    const type = responseType(this.#buffer!, op, len, this.location);
    if (type === MemResponse.BUSY) {
      this.#stats.busy++;
      this.#undo(op);
      if (op.resolve) this.#pending.unshift(op);
      return this.#retryLater();
    }
    if (type === MemResponse.NACK) {
      this.#stats.nacks++;
      this.#undo(op);
      if (op.type === MemRequest.PLUG) this.#refused = true; // §5.15: plugged_size >= requested_size
      op.reject?.(new MemRequestError(this.location, requestName(op.type), op.addr, op.blocks, "NACK"));
      return;
    }
    if (type === MemResponse.ERROR) {
      this.#stats.errors++;
      this.#undo(op);
      const error = new MemRequestError(this.location, requestName(op.type), op.addr, op.blocks, "ERROR");
      this.#lastError = error;
      this.#refused = true; // do not repeat what the device called wrong until its config changes
      op.reject?.(error);
      return;
    }
    // ACK
    switch (op.type) {
      case MemRequest.PLUG:
        this.#plugged(op.addr, op.blocks);
        break;
      case MemRequest.UNPLUG:
        this.#mark(op.addr, op.blocks, UNPLUGGED);
        break;
      case MemRequest.UNPLUG_ALL:
        this.#blocks.fill(UNPLUGGED);
        break;
      case MemRequest.STATE: {
        const state = responseState(this.#buffer!, this.location);
        if (op.resolve) op.resolve(STATE_NAMES[state]!);
        else this.#learn(op, state);
        return;
      }
    }
    this.#checkPluggedSize();
  }

  /** ACKed plug: each block mapped, initialized (§5.15.6.1 SHOULD) and added to the pool. */
  #plugged(addr: number, blocks: number): void {
    const bs = this.#config!.blockSize;
    for (let b = 0; b < blocks; b++) {
      const region = this.#hotplug.map(addr + b * bs, bs);
      region.bytes.fill(0);
      this.#pool.addRegion(region);
    }
    this.#mark(addr, blocks, PLUGGED);
  }

  /** A request that was not carried out: its blocks are as they were. */
  #undo(op: MemOp): void {
    if (op.type === MemRequest.UNPLUG) this.#plugged(op.addr, op.blocks); // back into the pool
  }

  /** The answer to a STATE request about a block whose request was out at a reset. */
  #learn(op: MemOp, state: number): void {
    if (state === 0) this.#plugged(op.addr, op.blocks);
    else if (state === 1) this.#mark(op.addr, op.blocks, UNPLUGGED);
    else throw new MemDeviceError(this.location, `one block at 0x${op.addr.toString(16)} answered "mixed"`);
  }

  #askUnknown(): void {
    const c = this.#config!;
    for (let i = 0; i < this.#blocks.length; i++) {
      if (this.#blocks[i] === UNKNOWN) this.#pending.push({ type: MemRequest.STATE, addr: c.addr + i * c.blockSize, blocks: 1 });
    }
  }

  /** After an ACK, plugged_size must say what the driver now holds (§5.15.6.2.2). */
  #checkPluggedSize(): void {
    const c = readMemConfig(this.#device);
    this.#config = { ...this.#config!, pluggedSize: c.pluggedSize, requestedSize: c.requestedSize, usableRegionSize: c.usableRegionSize };
    if (this.#count(UNKNOWN) > 0) return;
    const ours = this.#count(PLUGGED) * c.blockSize;
    if (c.pluggedSize !== ours) {
      this.#lastError = new MemDeviceError(this.location, `plugged_size ${c.pluggedSize} after an ACK, but ${ours} bytes are plugged`);
      this.#break(this.#lastError);
    }
  }

  #mark(addr: number, blocks: number, state: number): void {
    const c = this.#config!;
    const first = (addr - c.addr) / c.blockSize;
    this.#blocks.fill(state, first, first + blocks);
  }

  #count(state: number): number {
    let n = 0;
    for (let i = 0; i < this.#blocks.length; i++) if (this.#blocks[i] === state) n++;
    return n;
  }

  #retryLater(): void {
    if (this.#retryTimer !== null) return;
    this.#retryTimer = this.#platform.timers.set(() => {
      this.#retryTimer = null;
      this.#pump();
    }, this.#retryMs);
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) this.#platform.timers.clear(this.#retryTimer);
    this.#retryTimer = null;
  }

  #break(error: Error): void {
    this.#broken = error;
    this.#clearRetry();
    this.#device.reportError(error);
    for (const op of this.#pending.splice(0)) op.reject?.(error);
  }
}
