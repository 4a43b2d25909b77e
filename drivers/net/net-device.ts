// One virtio network device (VIRTIO 1.2 §5.1) as the application sees it, in the shape
// of an ECMA-419 IO class: options with callbacks, `write(frame)`, `onReadable(frame)`,
// `onWritable(slots)`, `onLinkChange(up)`, `onError(error)`, `close()` safe twice.
//
// receiveq (queue 0) is kept full: every receive buffer that comes back is read, checked
// and posted again at once (§5.1.6.3). transmitq (queue 1) has a fixed set of transmit
// slots: a frame takes one, the slot is free again when the device returns it
// (§5.1.6.2); with every slot in flight, write() throws NetQueueFullError and
// onWritable() tells when there is room again (backpressure, never an unbounded queue).
//
// Buffer layout: with VERSION_1 the header and the frame share one descriptor (§5.1.6.2,
// any layout); a legacy device without ANY_LAYOUT gets the header in a descriptor of its
// own (§5.1.6.6 "Legacy Interface": the header in a separate descriptor), the frame at
// offset 16. Each buffer is one DMA block of BUFFER_SIZE bytes; on transmit the header
// is placed so that the frame has the caller's alignment mod 4 (word-wise copies).

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { BufferRef, Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { drainQueue } from "../virtio/drain.js";
import type { RemoveReason } from "../virtio/driver.js";
import { Feature } from "../virtio/features.js";
import { alignedBytes, copyBytes } from "../../net/bytes.js";
import type { Nic } from "../../net/nic.js";
import { FrameSizeError, NetClosedError, NetDeviceError, NetQueueFullError } from "./errors.js";
import { ETH_HEADER_LEN, ETH_MAX_FRAME, ETH_MTU, MIN_MTU, NET_S_ANNOUNCE, NET_S_LINK_UP, NetConfig, NetFeature, netHeaderLength } from "./net-spec.js";
import { RxMerger } from "./rx-merge.js";
import { NetControl } from "./control-queue.js";

export interface NetOptions {
  /** Receive buffers kept posted (capped by the queue). Default 64. */
  readonly rxBuffers?: number;
  /** Transmit slots: frames in flight at most (capped by the queue). Default 32. */
  readonly txSlots?: number;
  /** A frame arrived (a copy: Ethernet header first, no virtio header, no FCS). */
  onReadable?: ((frame: Uint8Array) => void) | null;
  /** Transmit slots came back; `slots` are free now. */
  onWritable?: ((slots: number) => void) | null;
  /** The link went up or down (config change, §5.1.4 status). */
  onLinkChange?: ((up: boolean) => void) | null;
  /** The device asks for an announcement (GUEST_ANNOUNCE, §5.1.6.5.4): send a gratuitous
   * ARP; the driver acknowledges it to the device afterwards. */
  onAnnounce?: (() => void) | null;
  /** The device misbehaved or a callback threw; the device stays up where it can. */
  onError?: ((error: Error) => void) | null;
  /** Re-initializations (core restart()) after the device broke a ring rule. Default 3. */
  readonly maxRestarts?: number;
}

export interface NetStats {
  readonly rxFrames: number;
  readonly rxBytes: number;
  /** Frames dropped because the used length was impossible (< header + 14, > buffer). */
  readonly rxBadLength: number;
  /** Frames received while nobody listened (no onReadable, or closed). */
  readonly rxUnread: number;
  readonly txFrames: number;
  readonly txBytes: number;
  /** write() calls refused because every transmit slot was in flight. */
  readonly txFull: number;
  /** Frames a reset took back before the device returned them (sent or not: unknown). */
  readonly txAbandoned: number;
  readonly linkChanges: number;
  /** Announce requests answered (GUEST_ANNOUNCE). */
  readonly announces: number;
  /** Re-initializations after a broken queue. */
  readonly restarts: number;
}

interface RxSlot {
  readonly dma: DmaBuffer;
}

interface TxSlot {
  readonly dma: DmaBuffer;
}

type Slot = RxSlot | TxSlot;

/** One DMA block per buffer: room for a 12-byte header, 3 bytes of alignment slack and
 * 1514 bytes of frame, or (legacy) the frame at 16 + 3. */
const BUFFER_SIZE = 1536;
/** Where the frame starts in a legacy buffer (the header alone in front). */
const SPLIT_DATA_OFFSET = 16;

/** Random locally administered unicast MAC (IEEE 802: bit 1 of byte 0 set, bit 0 clear). */
export function randomMac(): Uint8Array {
  const mac = new Uint8Array(6);
  for (let i = 0; i < 6; i++) mac[i] = Math.floor(Math.random() * 256);
  mac[0] = (mac[0]! & 0xfc) | 0x02;
  return mac;
}

/** The 6-byte mac field of the config space (§5.1.4), one generation-checked read. */
export function readConfigMac(device: VirtioDevice): Uint8Array {
  return device.readConfig((c) => {
    const m = new Uint8Array(6);
    for (let i = 0; i < 6; i++) m[i] = c.u8(NetConfig.MAC + i);
    return m;
  });
}

/** A unicast, non-zero address (IEEE 802: bit 0 of byte 0 clear). */
export function usableMac(mac: Uint8Array): boolean {
  return (mac[0]! & 1) === 0 && mac.some((b) => b !== 0);
}

export function formatMac(mac: Uint8Array): string {
  let s = "";
  for (let i = 0; i < mac.length; i++) s += (i ? ":" : "") + mac[i]!.toString(16).padStart(2, "0");
  return s;
}

export class NetDevice implements Nic {
  onReadable: ((frame: Uint8Array) => void) | null;
  onWritable: ((slots: number) => void) | null;
  onLinkChange: ((up: boolean) => void) | null;
  onAnnounce: (() => void) | null;
  onError: ((error: Error) => void) | null;
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #rxWanted: number;
  readonly #txWanted: number;
  readonly #maxRestarts: number;
  #rxQueue: Virtqueue<RxSlot> | null = null;
  #txQueue: Virtqueue<TxSlot> | null = null;
  #rxSlots: RxSlot[] = [];
  #txSlots: TxSlot[] = [];
  #txFree: TxSlot[] = [];
  #headerLen = 12;
  #merger: RxMerger | null = null;
  #control: NetControl | null = null;
  #deviceMtu = 0;
  #txMtu = ETH_MTU;
  #rxMaxFrame = ETH_MAX_FRAME;
  /** Descriptors one buffer takes: 1 (VERSION_1, or indirect) or 2 (legacy: header apart). */
  #splitHeader = false;
  #mac: Uint8Array = randomMac();
  #macFromDevice = false;
  #linkUp = false;
  #live = false;
  #closed = false;
  #unbound = false;
  #broken: Error | null = null;
  #stats = { rxFrames: 0, rxBytes: 0, rxBadLength: 0, rxUnread: 0, txFrames: 0, txBytes: 0, txFull: 0, txAbandoned: 0, linkChanges: 0, announces: 0, restarts: 0 };

  constructor(device: VirtioDevice, options: NetOptions = {}) {
    const rx = options.rxBuffers ?? 64;
    const tx = options.txSlots ?? 32;
    if (!Number.isInteger(rx) || rx < 1) throw new RangeError(`rxBuffers ${rx} must be a positive integer`);
    if (!Number.isInteger(tx) || tx < 1) throw new RangeError(`txSlots ${tx} must be a positive integer`);
    this.#device = device;
    this.#platform = device.platform;
    this.#rxWanted = rx;
    this.#txWanted = tx;
    this.#maxRestarts = options.maxRestarts ?? 3;
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.onLinkChange = options.onLinkChange ?? null;
    this.onAnnounce = options.onAnnounce ?? null;
    this.onError = options.onError ?? null;
  }

  get location(): string {
    return this.#device.location;
  }

  /** The MAC address (a copy): from config when the device offers MAC, else random. */
  get mac(): Uint8Array {
    return this.#mac.slice();
  }

  get macString(): string {
    return formatMac(this.#mac);
  }

  /** True when the MAC came from the device's config (VIRTIO_NET_F_MAC). */
  get macFromDevice(): boolean {
    return this.#macFromDevice;
  }

  /** §5.1.4: without VIRTIO_NET_F_STATUS the link is assumed up. */
  get linkUp(): boolean {
    return this.#linkUp;
  }

  /** Between DRIVER_OK and the next reset, not closed, not broken. */
  get ready(): boolean {
    return this.#live && this.#device.live && !this.#closed && this.#broken === null;
  }

  /** The error that broke a queue, until the device is re-initialized. */
  get broken(): Error | null {
    return this.#broken;
  }

  /** Size of the virtio_net_hdr in use (10 or 12, §5.1.6). */
  get headerLength(): number {
    return this.#headerLen;
  }

  /** Transmit slots free now. */
  get writable(): number {
    return this.#live && this.#device.live ? this.#txFree.length : 0;
  }

  /** Receive buffers posted to the device now. */
  get rxPosted(): number {
    return this.#rxQueue?.inFlight ?? 0;
  }

  /** Largest frame payload (the IP packet) write() takes: 1500, or the device's mtu if
   * smaller (VIRTIO_NET_F_MTU, §5.1.6.2: the driver never sends more). */
  get mtu(): number {
    return this.#txMtu;
  }

  /** Largest frame write() takes (Ethernet header + mtu). */
  get maxFrame(): number {
    return ETH_HEADER_LEN + this.#txMtu;
  }

  /** The device's mtu (config, VIRTIO_NET_F_MTU), or 0 when not negotiated. */
  get deviceMtu(): number {
    return this.#deviceMtu;
  }

  /** Mergeable receive buffers (VIRTIO_NET_F_MRG_RXBUF) in use. */
  get mergeable(): boolean {
    return this.#merger !== null;
  }

  /** Largest frame received: 1514, or 14 + the device's mtu with mergeable buffers. */
  get maxReceiveFrame(): number {
    return this.#rxMaxFrame;
  }

  stats(): NetStats {
    return { ...this.#stats };
  }

  /** Sends one Ethernet frame (destination MAC first, no FCS). Copies it: the caller keeps its buffer. */
  write(frame: Uint8Array | ArrayBuffer): void {
    const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
    if (this.#closed) throw new NetClosedError(this.location, "closed");
    if (this.#unbound) throw new NetClosedError(this.location, "unbound");
    if (this.#broken !== null) throw this.#broken;
    if (bytes.length < ETH_HEADER_LEN || bytes.length > ETH_HEADER_LEN + this.#txMtu) throw new FrameSizeError(bytes.length, ETH_HEADER_LEN + this.#txMtu);
    const queue = this.#txQueue;
    // Quiesced from the start of a reset (device.live false), not only from detach().
    if (queue === null || !this.#live || !this.#device.live) throw new NetClosedError(this.location, `not ready (${this.#device.state})`);
    if (this.#txFree.length === 0) this.onTxUsed(); // reclaim what the device already returned
    const slot = this.#txFree.pop();
    if (slot === undefined) {
      this.#stats.txFull++;
      throw new NetQueueFullError(this.location, this.#txSlots.length);
    }
    // §5.1.6.2: flags 0, gso_type VIRTIO_NET_HDR_GSO_NONE, num_buffers 0 on transmit.
    const refs = this.#txLayout(slot.dma, bytes);
    try {
      queue.add(refs, [], slot);
      queue.kick();
    } catch (error) {
      this.#txFree.push(slot);
      this.#break(toError(error));
      throw error;
    }
    this.#stats.txFrames++;
    this.#stats.txBytes += bytes.length;
  }

  /** Stops delivering callbacks; write() throws afterwards. Safe to call twice. The device
   * stays bound (its buffers are freed when the driver lets go of it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onReadable = this.onWritable = this.onLinkChange = this.onError = this.onAnnounce = null;
  }

  // ---- called by the driver ----

  /** During probe (§3.1.1 step 7): MAC and status from config, then the two queues. */
  attach(): void {
    const device = this.#device;
    const version1 = device.hasFeature(Feature.VERSION_1);
    this.#headerLen = netHeaderLength(version1, device.hasFeature(NetFeature.MRG_RXBUF));
    // §5.1.6.6 (legacy): without VERSION_1 or ANY_LAYOUT the header has its own descriptor.
    this.#splitHeader = !version1 && !device.hasFeature(Feature.ANY_LAYOUT);
    this.#broken = null;
    this.#unbound = false;
    this.#readMac();
    this.#linkUp = this.#readLink();
    this.#readMtu();
    const mergeable = device.hasFeature(NetFeature.MRG_RXBUF);
    this.#rxMaxFrame = mergeable && this.#deviceMtu > ETH_MTU ? ETH_HEADER_LEN + this.#deviceMtu : ETH_MAX_FRAME;
    this.#merger = mergeable ? new RxMerger(this.#headerLen, this.#rxMaxFrame, this.#headerLen + ETH_MAX_FRAME) : null;
    const size = (n: number): number => Math.min(1024, 2 ** Math.ceil(Math.log2(n * (this.#splitHeader ? 2 : 1))));
    // A buffer's chain: header and frame apart (legacy, §5.1.6.6), or one; the queue must
    // hold it, indirect or not (§2.7.5.3.1): a smaller one fails the device at every init.
    const least = { minSize: this.#splitHeader ? 2 : 1, minSizeFor: "descriptors of one frame's chain (header, frame)" };
    this.#rxQueue = device.createQueue<RxSlot>(0, { size: size(this.#rxWanted), ...least, onUsed: () => this.onRxUsed() });
    this.#txQueue = device.createQueue<TxSlot>(1, { size: size(this.#txWanted), ...least, onUsed: () => this.onTxUsed() });
    // §5.1.2: without MQ the control queue is queue 2
    this.#control = device.hasFeature(NetFeature.CTRL_VQ) ? new NetControl(device, 2) : null;
    const per = this.#descriptorsPerBuffer();
    const rxCount = Math.max(1, Math.min(this.#rxWanted, Math.floor(this.#rxQueue.size / per)));
    const txCount = Math.max(1, Math.min(this.#txWanted, Math.floor(this.#txQueue.size / per)));
    for (let i = 0; i < rxCount; i++) this.#rxSlots.push({ dma: this.#platform.dma.alloc(BUFFER_SIZE, 16) });
    for (let i = 0; i < txCount; i++) this.#txSlots.push({ dma: this.#platform.dma.alloc(BUFFER_SIZE, 16) });
    this.#txFree = [...this.#txSlots];
  }

  /** After DRIVER_OK: fill receiveq and kick once (§5.1.5 step: "fill the receive queues"). */
  start(): void {
    this.#live = true;
    const queue = this.#rxQueue;
    if (queue === null) return;
    try {
      for (const slot of this.#rxSlots) this.#postRx(queue, slot);
      queue.kick();
    } catch (error) {
      this.#break(toError(error));
    }
  }

  /** From remove(): the device is reset, so every buffer comes back and is freed. */
  detach(reason: RemoveReason): void {
    this.#live = false;
    if (reason === "unbind") this.#unbound = true;
    this.#control?.close(reason === "unbind" ? "device unbound" : "device reset");
    this.#control = null;
    this.#rxQueue?.detachAll();
    this.#stats.txAbandoned += this.#txQueue?.detachAll().length ?? 0; // counted, not silent
    this.#rxQueue = this.#txQueue = null;
    for (const slot of [...this.#rxSlots, ...this.#txSlots]) this.#platform.dma.free(slot.dma);
    this.#rxSlots = [];
    this.#txSlots = [];
    this.#txFree = [];
  }

  /** The control queue (VIRTIO_NET_F_CTRL_VQ): receive modes, MAC filter and address,
   * queue pairs; null when not negotiated. */
  get control(): NetControl | null {
    return this.#control;
  }

  /** Sets the device's MAC address through the control queue (CTRL_MAC_ADDR,
   * §5.1.6.5.2); the interface uses it once the device acknowledged it. */
  async setMac(mac: Uint8Array): Promise<void> {
    const control = this.#control;
    if (control === null) throw new NetClosedError(this.location, "no control queue");
    if ((mac[0]! & 1) !== 0 || mac.every((b) => b === 0)) throw new RangeError(`MAC ${formatMac(mac)}: not a unicast address`);
    await control.setMac(mac);
    this.#mac = mac.slice();
  }

  /** The device's config changed (§2.5.2): follow the link status; answer an announce
   * request (§5.1.6.5.4: the stack sends a gratuitous ARP, then ANNOUNCE_ACK). */
  configChanged(): void {
    let up: boolean;
    let status: number;
    try {
      up = this.#readLink();
      status = this.#device.hasFeature(NetFeature.GUEST_ANNOUNCE) ? this.#device.readConfig((c) => c.u16(NetConfig.STATUS)) : 0;
    } catch (error) {
      this.#report(toError(error));
      return;
    }
    if ((status & NET_S_ANNOUNCE) !== 0 && this.#control !== null) {
      this.#stats.announces++;
      this.#call(() => this.onAnnounce?.());
      this.#control.announceAck().catch((e: unknown) => this.#report(toError(e)));
    }
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    this.#stats.linkChanges++;
    this.#call(() => this.onLinkChange?.(up));
  }

  /** receiveq used-buffer callback (event loop): take each frame, post its buffer again. */
  onRxUsed(): void {
    const queue = this.#rxQueue;
    if (queue === null || this.#broken !== null) return;
    const frames: Uint8Array[] = [];
    try {
      drainQueue(queue, (completion) => {
        const frame = this.#takeFrame(completion);
        if (frame !== null) frames.push(frame);
        if (this.#live) this.#postRx(queue, completion.token);
      });
      if (this.#live) queue.kick();
    } catch (error) {
      this.#break(toError(error));
    }
    for (const frame of frames) {
      const reader = this.#closed ? null : this.onReadable;
      if (reader === null) {
        this.#stats.rxUnread++;
        continue;
      }
      this.#call(() => reader(frame));
    }
  }

  /** transmitq used-buffer callback: the slots are free again. */
  onTxUsed(): void {
    const queue = this.#txQueue;
    if (queue === null || this.#broken !== null) return;
    let freed = 0;
    try {
      // The ring already checked len ≤ the chain's writable bytes (0 on transmit).
      freed = drainQueue(queue, ({ token }: Completion<TxSlot>) => void this.#txFree.push(token));
    } catch (error) {
      this.#break(toError(error));
      return;
    }
    if (freed > 0 && this.onWritable !== null && !this.#closed) {
      const writable = this.onWritable;
      this.#call(() => writable(this.#txFree.length));
    }
  }

  // ---- inside ----

  /** Checks the used length (§5.1.6.4: header, then the packet) and copies the frame out. */
  #takeFrame({ token, len }: Completion<RxSlot>): Uint8Array | null {
    if (this.#merger !== null) return this.#takeMerged(token, len);
    const max = this.#headerLen + ETH_MAX_FRAME;
    if (len < this.#headerLen + ETH_HEADER_LEN || len > max) {
      this.#stats.rxBadLength++;
      this.#report(new NetDeviceError(this.location, "receive length", len));
      return null;
    }
    const length = len - this.#headerLen;
    this.#stats.rxFrames++;
    this.#stats.rxBytes += length;
    const at = this.#splitHeader ? SPLIT_DATA_OFFSET : this.#headerLen;
    const frame = alignedBytes(length, token.dma.bytes.byteOffset + at);
    copyBytes(frame, 0, token.dma.bytes.subarray(at, at + length));
    return frame;
  }

  /** §5.1.6.4 with MRG_RXBUF: one of the num_buffers buffers of a frame. */
  #takeMerged(token: RxSlot, len: number): Uint8Array | null {
    const result = this.#merger!.take(token.dma.bytes.subarray(0, len));
    if (result === null) return null;
    if (typeof result === "string") {
      this.#stats.rxBadLength++;
      this.#report(new NetDeviceError(this.location, "merged receive buffers", result));
      return null;
    }
    this.#stats.rxFrames++;
    this.#stats.rxBytes += result.length;
    if (result.byteOffset % 4 === 2) return result;
    const frame = alignedBytes(result.length, 2); // the IP header on a word boundary
    copyBytes(frame, 0, result);
    return frame;
  }

  /** §5.1.4: mtu (le16) when VIRTIO_NET_F_MTU was negotiated; under 68 it is refused. */
  #readMtu(): void {
    this.#deviceMtu = 0;
    this.#txMtu = ETH_MTU;
    if (!this.#device.hasFeature(NetFeature.MTU)) return;
    const mtu = this.#device.readConfig((c) => c.u16(NetConfig.MTU));
    if (mtu < MIN_MTU) {
      this.#report(new NetDeviceError(this.location, "mtu", mtu));
      return;
    }
    this.#deviceMtu = mtu;
    this.#txMtu = Math.min(ETH_MTU, mtu);
  }

  /** A receive buffer: header then 1514 bytes, in one descriptor or two (legacy). */
  #postRx(queue: Virtqueue<RxSlot>, slot: RxSlot): void {
    const dma = slot.dma;
    const refs: BufferRef[] = this.#splitHeader
      ? [{ phys: dma.phys, len: this.#headerLen }, { phys: dma.phys + SPLIT_DATA_OFFSET, len: ETH_MAX_FRAME }]
      : [{ phys: dma.phys, len: this.#headerLen + ETH_MAX_FRAME }];
    queue.add([], refs, slot);
  }

  /** Writes a zero header and the frame into a transmit buffer; the frame keeps the
   * caller's alignment mod 4 so that the copy goes word by word. */
  #txLayout(dma: DmaBuffer, frame: Uint8Array): BufferRef[] {
    const bytes = dma.bytes;
    const align = (frame.byteOffset - bytes.byteOffset) & 3;
    const h = this.#headerLen;
    if (this.#splitHeader) {
      const at = SPLIT_DATA_OFFSET + align;
      bytes.fill(0, 0, h);
      copyBytes(bytes, at, frame);
      return [{ phys: dma.phys, len: h }, { phys: dma.phys + at, len: frame.length }];
    }
    const start = (align - h) & 3;
    bytes.fill(0, start, start + h);
    copyBytes(bytes, start + h, frame);
    return [{ phys: dma.phys + start, len: h + frame.length }];
  }

  #descriptorsPerBuffer(): number {
    return this.#splitHeader && !this.#device.hasFeature(Feature.RING_INDIRECT_DESC) ? 2 : 1;
  }

  /** MAC from config when negotiated (§5.1.4, §5.1.5); checkFeatures (net-driver.ts)
   * dropped MAC for an unusable address, so one here means the config changed since. */
  #readMac(): void {
    if (!this.#device.hasFeature(NetFeature.MAC)) {
      if (this.#macFromDevice) this.#mac = randomMac();
      this.#macFromDevice = false;
      return;
    }
    const mac = readConfigMac(this.#device);
    if (!usableMac(mac)) throw new NetDeviceError(this.location, "MAC address", formatMac(mac));
    this.#mac = mac;
    this.#macFromDevice = true;
  }

  /** §5.1.4: status.LINK_UP, read only when VIRTIO_NET_F_STATUS was negotiated. */
  #readLink(): boolean {
    if (!this.#device.hasFeature(NetFeature.STATUS)) return true;
    const status = this.#device.readConfig((c) => c.u16(NetConfig.STATUS));
    return (status & NET_S_LINK_UP) !== 0;
  }

  /** A ring rule broken by the device: stop using the queues, and have the core reset
   * and re-initialize the device (a few times at most); this object and its callbacks
   * stay, the queues and buffers are new. */
  #break(error: Error): void {
    if (this.#broken !== null) return;
    this.#broken = error;
    this.#report(error);
    if (this.#stats.restarts >= this.#maxRestarts || this.#closed || this.#unbound) return;
    this.#stats.restarts++;
    const device = this.#device;
    this.#platform.timers.set(() => void device.restart(), 0); // not from inside the interrupt handler
  }

  #report(error: Error): void {
    this.#device.reportError(error);
    const onError = this.#closed ? null : this.onError;
    if (onError !== null) {
      try {
        onError(error);
      } catch {
        // an error handler that throws has nowhere to report to
      }
    }
  }

  /** Runs a user callback; what it throws goes to onError, never into the event loop. */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#report(toError(error));
    }
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export type { Slot };
