// One virtio GPU (VIRTIO 1.2 §5.7) in 2D mode as the firmware sees it: the commands of
// the controlq and the cursorq as promises. Each command is one chain: the request
// (device-readable) and, on the controlq, a response buffer (device-writable, §5.7.6.1).
// Every response is checked: its length, its type (OK_NODATA / OK_DISPLAY_INFO / OK_EDID
// as the command expects; ERR_* rejects that command with GpuResponseError), and the fence
// echoed when one was asked for (§5.7.6.7). Anything else marks the device broken.
// Displays (gpu-display.ts) and cursors (gpu-cursor.ts) are built on these commands.

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { BufferRef, Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { drainQueue } from "../virtio/drain.js";
import type { RemoveReason } from "../virtio/driver.js";
import { DeviceRemovedError, DeviceStateError } from "../virtio/errors.js";
import { RequestWatchdog, type WatchedRequest } from "../virtio/request-watchdog.js";
import { GpuDeviceError, GpuResponseError } from "./errors.js";
import {
  GPU_EVENT_DISPLAY, GPU_FLAG_FENCE, GPU_MAX_SCANOUTS, GpuCmd, GpuConfig, GpuFeature, GpuResp, GpuSize,
  gpuTypeName, writeHeader, writeRect, type GpuRect, type GpuScanout,
} from "./gpu-spec.js";

export interface GpuOptions {
  /** A command not answered in this time fails with RequestTimeoutError. Default 2000 ms. */
  readonly timeoutMs?: number;
  /** Ask for a fence on TRANSFER_TO_HOST_2D and RESOURCE_FLUSH (default true). */
  readonly fences?: boolean;
}

export interface GpuStats {
  readonly commands: number;
  readonly cursorCommands: number;
  readonly errors: number;
  readonly fences: number;
  readonly displayEvents: number;
  /** Bytes named in TRANSFER_TO_HOST_2D (rectangle area x 4). */
  readonly transferredBytes: number;
}

/** One command on a ring: the token of its chain. */
export interface GpuCommand {
  readonly type: number;
  readonly buffer: DmaBuffer;
  readonly respAt: number;
  readonly respSize: number;
  /** The response type that means success (0 on the cursorq: no response). */
  readonly expect: number;
  readonly fenceId: bigint;
  watched: WatchedRequest | null;
  readonly resolve: (response: DataView) => void;
  readonly reject: (error: Error) => void;
}

export class GpuDevice {
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #fences: boolean;
  readonly #watchdog: RequestWatchdog;
  #control: Virtqueue<GpuCommand> | null = null;
  #cursor: Virtqueue<GpuCommand> | null = null;
  readonly #inFlight = new Set<GpuCommand>();
  #live = false;
  #broken: Error | null = null;
  #nextResource = 1;
  #nextFence = 1n;
  #scanouts: GpuScanout[] = [];
  #numScanouts = 0;
  #generation = 0;
  readonly #displayListeners = new Set<(scanouts: readonly GpuScanout[]) => void>();
  readonly #resetListeners = new Set<() => void>();
  #stats = { commands: 0, cursorCommands: 0, errors: 0, fences: 0, displayEvents: 0, transferredBytes: 0 };

  constructor(device: VirtioDevice, options: GpuOptions = {}) {
    this.#device = device;
    this.#platform = device.platform;
    this.#fences = options.fences ?? true;
    this.#watchdog = new RequestWatchdog({
      platform: this.#platform,
      location: device.location,
      timeoutMs: options.timeoutMs ?? 2000,
      poll: () => this.onUsed(),
    });
  }

  get location(): string {
    return this.#device.location;
  }

  get platform(): Platform {
    return this.#platform;
  }

  get broken(): Error | null {
    return this.#broken;
  }

  get live(): boolean {
    return this.#live && this.#broken === null && this.#device.live;
  }

  /** GET_EDID may be used (VIRTIO_GPU_F_EDID negotiated). */
  get edidSupported(): boolean {
    return this.#device.hasFeature(GpuFeature.EDID);
  }

  /** num_scanouts from the configuration (1..16). */
  get numScanouts(): number {
    return this.#numScanouts;
  }

  /** The scanouts as GET_DISPLAY_INFO last reported them. */
  get scanouts(): readonly GpuScanout[] {
    return this.#scanouts;
  }

  /** Bumped at every reset: resources made before it are gone. */
  get generation(): number {
    return this.#generation;
  }

  stats(): GpuStats {
    return { ...this.#stats };
  }

  /** Calls `fn` with the new scanouts after each display event (§5.7.4). Returns an unsubscribe. */
  onDisplayChange(fn: (scanouts: readonly GpuScanout[]) => void): () => void {
    this.#displayListeners.add(fn);
    return () => this.#displayListeners.delete(fn);
  }

  /** Calls `fn` when the device is reset (its resources are gone). */
  onReset(fn: () => void): () => void {
    this.#resetListeners.add(fn);
    return () => this.#resetListeners.delete(fn);
  }

  /** Runs `fn` once, at the next reset (memory a device may still read is freed then). */
  freeAtReset(fn: () => void): void {
    const off = this.onReset(() => { off(); fn(); });
  }

  /** Called by the driver during probe. */
  attach(control: Virtqueue<GpuCommand>, cursor: Virtqueue<GpuCommand>): void {
    this.#control = control;
    this.#cursor = cursor;
    this.#broken = null;
    const n = this.#device.readConfig((c) => c.u32(GpuConfig.NUM_SCANOUTS));
    // §5.7.4: num_scanouts is 1..VIRTIO_GPU_MAX_SCANOUTS.
    if (n < 1 || n > GPU_MAX_SCANOUTS) throw new GpuDeviceError(this.location, `num_scanouts ${n} is not 1..${GPU_MAX_SCANOUTS}`);
    this.#numScanouts = n;
  }

  /** Called by the driver once DRIVER_OK is set. */
  start(): void {
    this.#live = true;
    this.displayInfo().catch(() => undefined); // the error, if any, is in `broken` or the next call
  }

  /** The configuration changed: a display event (§5.7.4) is read and cleared. */
  configChanged(): void {
    if (!this.live) return;
    const events = this.#device.readConfig((c) => c.u32(GpuConfig.EVENTS_READ));
    if ((events & GPU_EVENT_DISPLAY) === 0) return;
    this.#stats.displayEvents++;
    this.#device.writeConfig32(GpuConfig.EVENTS_CLEAR, GPU_EVENT_DISPLAY); // §5.7.4.1
    this.displayInfo().then(
      (scanouts) => { for (const fn of this.#displayListeners) fn(scanouts); },
      () => undefined,
    );
  }

  /** Used-buffer callback of both queues. */
  onUsed(): void {
    try {
      for (const q of [this.#control, this.#cursor]) if (q !== null && q.broken === null) drainQueue(q, (c) => this.#complete(c));
    } catch (error) {
      this.#break(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Called by the driver from remove(): the device was reset; every command fails. */
  detach(reason: RemoveReason): void {
    this.#live = false;
    this.#generation++; // every resource is gone with the reset
    const error = new DeviceRemovedError(this.location, reason);
    for (const q of [this.#control, this.#cursor]) q?.detachAll();
    for (const cmd of [...this.#inFlight]) this.#settle(cmd, error);
    this.#control = this.#cursor = null;
    for (const fn of [...this.#resetListeners]) fn();
  }

  /** GET_DISPLAY_INFO (§5.7.6.8): every scanout's rectangle and whether it is enabled. */
  async displayInfo(): Promise<GpuScanout[]> {
    const resp = await this.#command(GpuCmd.GET_DISPLAY_INFO, GpuSize.HDR, GpuResp.OK_DISPLAY_INFO, GpuSize.RESP_DISPLAY_INFO, () => undefined);
    const out: GpuScanout[] = [];
    for (let i = 0; i < this.#numScanouts; i++) {
      const at = GpuSize.HDR + i * 24;
      const s = {
        index: i, x: resp.getUint32(at, true), y: resp.getUint32(at + 4, true),
        width: resp.getUint32(at + 8, true), height: resp.getUint32(at + 12, true),
        enabled: resp.getUint32(at + 16, true) !== 0, flags: resp.getUint32(at + 20, true),
      };
      if (s.enabled && (s.width === 0 || s.height === 0 || s.width > 16384 || s.height > 16384)) {
        throw this.#break(new GpuDeviceError(this.location, `scanout ${i} enabled with size ${s.width}x${s.height}`));
      }
      out.push(s);
    }
    this.#scanouts = out;
    return out;
  }

  /** GET_EDID (§5.7.6.8, with VIRTIO_GPU_F_EDID): the scanout's EDID blob. */
  async edid(scanout = 0): Promise<Uint8Array> {
    if (!this.edidSupported) throw new GpuDeviceError(this.location, "GET_EDID without VIRTIO_GPU_F_EDID");
    const resp = await this.#command(GpuCmd.GET_EDID, GpuSize.GET_EDID, GpuResp.OK_EDID, GpuSize.RESP_EDID, (v) => {
      v.setUint32(24, scanout, true);
      v.setUint32(28, 0, true);
    });
    const size = resp.getUint32(24, true);
    if (size > 1024) throw this.#break(new GpuDeviceError(this.location, `EDID size ${size} > 1024`));
    return new Uint8Array(resp.buffer.slice(resp.byteOffset + 32, resp.byteOffset + 32 + size));
  }

  /** RESOURCE_CREATE_2D; resolves the new resource id. */
  async createResource2d(format: number, width: number, height: number): Promise<number> {
    const id = this.#nextResource++;
    await this.#nodata(GpuCmd.RESOURCE_CREATE_2D, GpuSize.RESOURCE_CREATE_2D, (v) => {
      v.setUint32(24, id, true);
      v.setUint32(28, format, true);
      v.setUint32(32, width, true);
      v.setUint32(36, height, true);
    });
    return id;
  }

  /** RESOURCE_ATTACH_BACKING: the resource's pixels live in these pieces of guest memory. */
  attachBacking(resource: number, entries: readonly BufferRef[]): Promise<void> {
    const size = GpuSize.RESOURCE_ATTACH_BACKING + entries.length * GpuSize.MEM_ENTRY;
    return this.#nodata(GpuCmd.RESOURCE_ATTACH_BACKING, size, (v) => {
      v.setUint32(24, resource, true);
      v.setUint32(28, entries.length, true);
      entries.forEach((e, i) => {
        const at = GpuSize.RESOURCE_ATTACH_BACKING + i * GpuSize.MEM_ENTRY;
        v.setBigUint64(at, BigInt(e.phys), true);
        v.setUint32(at + 8, e.len, true);
        v.setUint32(at + 12, 0, true);
      });
    });
  }

  detachBacking(resource: number): Promise<void> {
    return this.#nodata(GpuCmd.RESOURCE_DETACH_BACKING, GpuSize.RESOURCE_DETACH_BACKING, (v) => v.setUint32(24, resource, true));
  }

  unref(resource: number): Promise<void> {
    return this.#nodata(GpuCmd.RESOURCE_UNREF, GpuSize.RESOURCE_UNREF, (v) => v.setUint32(24, resource, true));
  }

  /** SET_SCANOUT: shows `rect` of `resource` on the scanout (resource 0 disables it). */
  setScanout(scanout: number, resource: number, rect: GpuRect): Promise<void> {
    return this.#nodata(GpuCmd.SET_SCANOUT, GpuSize.SET_SCANOUT, (v) => {
      writeRect(v, 24, rect);
      v.setUint32(40, scanout, true);
      v.setUint32(44, resource, true);
    });
  }

  /** TRANSFER_TO_HOST_2D of `rect`; `offset` is the byte offset of its first pixel in the backing. */
  transferToHost(resource: number, rect: GpuRect, offset: number): Promise<void> {
    this.#stats.transferredBytes += rect.width * rect.height * 4;
    return this.#nodata(GpuCmd.TRANSFER_TO_HOST_2D, GpuSize.TRANSFER_TO_HOST_2D, (v) => {
      writeRect(v, 24, rect);
      v.setBigUint64(40, BigInt(offset), true);
      v.setUint32(48, resource, true);
      v.setUint32(52, 0, true);
    }, this.#fences);
  }

  /** RESOURCE_FLUSH: the scanouts showing `rect` of `resource` are updated. */
  flush(resource: number, rect: GpuRect): Promise<void> {
    return this.#nodata(GpuCmd.RESOURCE_FLUSH, GpuSize.RESOURCE_FLUSH, (v) => {
      writeRect(v, 24, rect);
      v.setUint32(40, resource, true);
      v.setUint32(44, 0, true);
    }, this.#fences);
  }

  /** UPDATE_CURSOR / MOVE_CURSOR on the cursorq (§5.7.6.10; no response). */
  cursor(type: typeof GpuCmd.UPDATE_CURSOR | typeof GpuCmd.MOVE_CURSOR, scanout: number, x: number, y: number, resource = 0, hotX = 0, hotY = 0): Promise<void> {
    return this.#submit(this.#cursor, type, GpuSize.UPDATE_CURSOR, 0, 0, false, (v) => {
      v.setUint32(24, scanout, true);
      v.setUint32(28, x, true);
      v.setUint32(32, y, true);
      v.setUint32(36, 0, true);
      v.setUint32(40, resource, true);
      v.setUint32(44, hotX, true);
      v.setUint32(48, hotY, true);
      v.setUint32(52, 0, true);
    }).then(() => undefined);
  }

  async #nodata(type: number, size: number, fill: (v: DataView) => void, fence = false): Promise<void> {
    await this.#submit(this.#control, type, size, GpuResp.OK_NODATA, GpuSize.HDR, fence, fill);
  }

  #command(type: number, size: number, expect: number, respSize: number, fill: (v: DataView) => void): Promise<DataView> {
    return this.#submit(this.#control, type, size, expect, respSize, false, fill);
  }

  #submit(queue: Virtqueue<GpuCommand> | null, type: number, size: number, expect: number, respSize: number, fence: boolean, fill: (v: DataView) => void): Promise<DataView> {
    return new Promise<DataView>((resolve, reject) => {
      if (this.#broken !== null) return reject(this.#broken);
      if (queue === null || !this.live) return reject(new DeviceStateError(this.location, this.#device.state, gpuTypeName(type)));
      const respAt = (size + 15) & ~15;
      const buffer = this.#platform.dma.alloc(respAt + respSize, 16);
      const view = buffer.view;
      const fenceId = fence ? this.#nextFence++ : 0n;
      writeHeader(view, type, fence ? GPU_FLAG_FENCE : 0, fenceId);
      fill(view);
      const cmd: GpuCommand = { type, buffer, respAt, respSize, expect, fenceId, watched: null, resolve, reject };
      const writable = respSize > 0 ? [{ phys: buffer.phys + respAt, len: respSize }] : [];
      try {
        queue.add([{ phys: buffer.phys, len: size }], writable, cmd);
      } catch (error) {
        this.#platform.dma.free(buffer);
        return reject(error instanceof Error ? error : new Error(String(error)));
      }
      this.#inFlight.add(cmd);
      cmd.watched = this.#watchdog.watch((e) => {
        // The buffers stay the device's until it answers or is reset (§2.7): only the promise fails.
        this.#stats.errors++;
        reject(e);
      });
      if (queue === this.#cursor) this.#stats.cursorCommands++;
      else this.#stats.commands++;
      if (fence) this.#stats.fences++;
      queue.kick();
    });
  }

  #complete({ token: cmd, len }: Completion<GpuCommand>): void {
    if (cmd.respSize === 0) return this.#settle(cmd, null);
    const resp = new DataView(cmd.buffer.bytes.buffer, cmd.buffer.bytes.byteOffset + cmd.respAt, cmd.respSize);
    if (len < GpuSize.HDR) return this.#settle(cmd, this.#break(new GpuDeviceError(this.location, `${gpuTypeName(cmd.type)}: response of ${len} bytes, shorter than its header`)));
    const type = resp.getUint32(0, true);
    if (type >= GpuResp.ERR_UNSPEC && type <= GpuResp.ERR_INVALID_PARAMETER) {
      this.#stats.errors++;
      return this.#settle(cmd, new GpuResponseError(this.location, cmd.type, type));
    }
    if (type !== cmd.expect) return this.#settle(cmd, this.#break(new GpuDeviceError(this.location, `${gpuTypeName(cmd.type)} answered ${gpuTypeName(type)}, not ${gpuTypeName(cmd.expect)}`)));
    if (len < cmd.respSize) return this.#settle(cmd, this.#break(new GpuDeviceError(this.location, `${gpuTypeName(type)} of ${len} bytes, not ${cmd.respSize}`)));
    if (cmd.fenceId !== 0n) {
      // §5.7.6.7: a fenced command's response carries VIRTIO_GPU_FLAG_FENCE and the same fence_id.
      const flags = resp.getUint32(4, true);
      const fenceId = resp.getBigUint64(8, true);
      if ((flags & GPU_FLAG_FENCE) === 0 || fenceId !== cmd.fenceId) {
        return this.#settle(cmd, this.#break(new GpuDeviceError(this.location, `${gpuTypeName(cmd.type)}: fence ${cmd.fenceId} answered with flags ${flags} fence ${fenceId}`)));
      }
    }
    // The response is copied out: the DMA buffer is freed now.
    const copy = new DataView(cmd.buffer.bytes.slice(cmd.respAt, cmd.respAt + cmd.respSize).buffer);
    this.#settle(cmd, null, copy);
  }

  #settle(cmd: GpuCommand, error: Error | null, response = new DataView(new ArrayBuffer(0))): void {
    if (!this.#inFlight.delete(cmd)) return;
    this.#platform.dma.free(cmd.buffer);
    if (cmd.watched !== null && !cmd.watched.done()) return; // already failed by its deadline
    if (error !== null) cmd.reject(error);
    else cmd.resolve(response);
  }

  /** The device broke a rule: stop; in-flight buffers stay the device's until the reset. */
  #break(error: Error): Error {
    if (this.#broken === null) {
      this.#broken = error;
      this.#device.reportError(error);
    }
    return error;
  }
}
