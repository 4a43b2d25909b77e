// One virtio network device (VIRTIO 1.2 §5.1) as the application sees it, in the shape
// of an ECMA-419 IO class: options with callbacks, `write(frame)`, `onReadable(frame)`,
// `onWritable(slots)`, `onLinkChange(up)`, `onError(error)`, `close()` safe twice.
//
// Queue pairs (§5.1.2, queue-pairs.ts): every receive queue is kept full (rx-queue.ts)
// and read; frames are sent on transmitq1 until the device acknowledged
// VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, then spread over the pairs by flow. The control queue
// is 2 without MQ or 2 * max_virtqueue_pairs with it. What the config space says:
// net-config.ts. Each transmit queue has fixed slots (tx-queue.ts): with every slot of a frame's queue
// in flight write() throws NetQueueFullError and onWritable() tells when there is room
// again (backpressure, never an unbounded queue). A device that holds a transmit buffer
// past txTimeoutMs is reset and re-initialized (drivers/virtio/tx-watchdog.ts).

import type { Platform } from "../../platform/platform.js";
import type { VirtioDevice } from "../virtio/device.js";
import { asError as toError } from "../virtio/device-port.js";
import type { RemoveReason } from "../virtio/driver.js";
import { TxWatchdog } from "../virtio/tx-watchdog.js";
import type { Nic } from "../../net/nic.js";
import type { BufferLayout } from "./buffer-layout.js";
import { NetControl } from "./control-queue.js";
import { FrameSizeError, NetClosedError, NetQueueFullError, NetTxTimeoutError } from "./errors.js";
import { formatMac, randomMac, usableMac } from "./mac.js";
import { bufferLayout, chooseMac, readAnnounce, readLinkUp, readMaxPairs, readMtu } from "./net-config.js";
import { ETH_HEADER_LEN, ETH_MAX_FRAME, ETH_MTU, NetFeature } from "./net-spec.js";
import { netLimits, newCounters, type NetLimits, type NetOptions, type NetStats } from "./net-types.js";
import { NetQueuePairs } from "./queue-pairs.js";
import type { NetRxQueue } from "./rx-queue.js";

export { formatMac, randomMac, readConfigMac, usableMac } from "./mac.js";
export type { NetOptions, NetStats } from "./net-types.js";

export class NetDevice implements Nic {
  onReadable: ((frame: Uint8Array) => void) | null;
  onWritable: ((slots: number) => void) | null;
  onLinkChange: ((up: boolean) => void) | null;
  onAnnounce: (() => void) | null;
  onError: ((error: Error) => void) | null;
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #limits: NetLimits;
  readonly #watchdog: TxWatchdog;
  /** The queue pairs between attach and detach (none outside). */
  readonly #pairs = new NetQueuePairs();
  #maxPairs = 1;
  /** Bumped at every detach: an answer from before a reset is ignored. */
  #epoch = 0;
  #layout: BufferLayout = { headerLen: 12, splitHeader: false, descriptorsPerBuffer: 1 };
  #mergeable = false;
  #control: NetControl | null = null;
  #deviceMtu = 0;
  #txMtu = ETH_MTU;
  #rxMaxFrame = ETH_MAX_FRAME;
  #mac: Uint8Array = randomMac();
  #macFromDevice = false;
  #linkUp = false;
  #live = false;
  #closed = false;
  #unbound = false;
  #broken: Error | null = null;
  readonly #stats = newCounters();

  constructor(device: VirtioDevice, options: NetOptions = {}) {
    this.#limits = netLimits(options);
    this.#device = device;
    this.#platform = device.platform;
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.onLinkChange = options.onLinkChange ?? null;
    this.onAnnounce = options.onAnnounce ?? null;
    this.onError = options.onError ?? null;
    this.#watchdog = new TxWatchdog({
      platform: this.#platform,
      timeoutMs: this.#limits.txTimeoutMs,
      maxSweepMs: 250,
      poll: () => this.#onTxUsed(),
      busy: () => this.#pairs.txInFlight > 0,
      // the oldest frame out decides, not the last completion (tx-queue.ts stamps them)
      age: (now) => this.#pairs.txAge(now),
      onStall: (age) => this.#txStalled(age),
    });
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
    return this.#layout.headerLen;
  }

  /** Transmit slots free now, over the transmit queues in use. */
  get writable(): number {
    if (!this.#live || !this.#device.live) return 0;
    return this.#pairs.writable;
  }

  /** Receive buffers posted to the device now, over every receive queue. */
  get rxPosted(): number {
    return this.#pairs.rxPosted;
  }

  /** Queue pairs frames are sent on now (1 until the device took VQ_PAIRS_SET). */
  get queuePairs(): number {
    return this.#pairs.txPairs;
  }

  /** Receive/transmit queue pairs set up (all of them are read). */
  get queuePairsSetUp(): number {
    return this.#pairs.count;
  }

  /** Frames received and sent on each queue pair set up, since it was set up. */
  pairStats(): { rxFrames: number; txFrames: number }[] {
    return this.#pairs.stats();
  }

  /** The device's max_virtqueue_pairs (§5.1.4; 1 without VIRTIO_NET_F_MQ). */
  get maxQueuePairs(): number {
    return this.#maxPairs;
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
    return this.#mergeable;
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
    // Quiesced from the start of a reset (device.live false), not only from detach().
    if (this.#pairs.count === 0 || !this.#live || !this.#device.live) throw new NetClosedError(this.location, `not ready (${this.#device.state})`);
    const queue = this.#pairs.txFor(bytes);
    let sent: boolean;
    try {
      sent = queue.send(bytes);
    } catch (error) {
      this.#break(toError(error));
      throw error;
    }
    if (!sent) {
      this.#stats.txFull++;
      throw new NetQueueFullError(this.location, queue.slots);
    }
    this.#watchdog.arm();
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

  /** During probe (§3.1.1 step 7): MAC, status, mtu and queue pairs from config, then the queues. */
  attach(): void {
    const device = this.#device;
    this.#mergeable = device.hasFeature(NetFeature.MRG_RXBUF);
    this.#layout = bufferLayout(device);
    this.#broken = null;
    this.#unbound = false;
    const mac = chooseMac(device, this.#mac, this.#macFromDevice);
    this.#mac = mac.mac;
    this.#macFromDevice = mac.fromDevice;
    this.#linkUp = readLinkUp(device);
    this.#deviceMtu = 0; // as they stay if the read throws
    this.#txMtu = ETH_MTU;
    const mtu = readMtu(device, (e) => this.#report(e));
    this.#deviceMtu = mtu.deviceMtu;
    this.#txMtu = mtu.txMtu;
    this.#maxPairs = readMaxPairs(device);
    this.#rxMaxFrame = this.#mergeable && this.#deviceMtu > ETH_MTU ? ETH_HEADER_LEN + this.#deviceMtu : ETH_MAX_FRAME;
    this.#pairs.setUp(device, {
      layout: this.#layout, pairs: Math.min(this.#limits.queuePairs, this.#maxPairs), rxBuffers: this.#limits.rxBuffers, txSlots: this.#limits.txSlots,
      mergedMaxFrame: this.#mergeable ? this.#rxMaxFrame : null, stats: this.#stats, report: (e) => this.#report(e),
      onRxUsed: (rx) => this.#onRxUsed(rx), onTxUsed: () => this.#onTxUsed(),
    });
    // §5.1.2: the control queue is 2N with MQ (N = max_virtqueue_pairs), else 2
    this.#control = device.hasFeature(NetFeature.CTRL_VQ) ? new NetControl(device, device.hasFeature(NetFeature.MQ) ? 2 * this.#maxPairs : 2) : null;
  }

  /** After DRIVER_OK: fill the receive queues (§5.1.5), then ask for the queue pairs. */
  start(): void {
    this.#live = true;
    try {
      for (const rx of this.#pairs.rx) rx.start();
    } catch (error) {
      this.#break(toError(error));
      return;
    }
    if (this.#pairs.count < 2 || this.#control === null) return;
    // §5.1.6.5.5: the queues are set up; transmitq1 only until the device took the command
    const epoch = this.#epoch;
    this.#control.setQueuePairs(this.#pairs.count).then(
      () => {
        if (epoch === this.#epoch) this.#pairs.useAll();
      },
      (e: unknown) => {
        if (epoch === this.#epoch) this.#report(toError(e));
      },
    );
  }

  /** From remove(): the device is reset, so every buffer comes back and is freed. */
  detach(reason: RemoveReason): void {
    this.#live = false;
    this.#epoch++;
    this.#watchdog.stop();
    if (reason === "unbind") this.#unbound = true;
    this.#control?.close(reason === "unbind" ? "device unbound" : "device reset");
    this.#control = null;
    this.#stats.txAbandoned += this.#pairs.detach(); // counted, not silent
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
    if (!usableMac(mac)) throw new RangeError(`MAC ${formatMac(mac)}: not a unicast address`);
    await control.setMac(mac);
    this.#mac = mac.slice();
  }

  /** The device's config changed (§2.5.2): follow the link status; answer an announce
   * request (§5.1.6.5.4: the stack sends a gratuitous ARP, then ANNOUNCE_ACK). */
  configChanged(): void {
    let up: boolean;
    let announce: boolean;
    try {
      up = readLinkUp(this.#device);
      announce = readAnnounce(this.#device);
    } catch (error) {
      this.#report(toError(error));
      return;
    }
    if (announce && this.#control !== null) {
      this.#stats.announces++;
      this.#call(() => this.onAnnounce?.());
      this.#control.announceAck().catch((e: unknown) => this.#report(toError(e)));
    }
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    this.#stats.linkChanges++;
    this.#call(() => this.onLinkChange?.(up));
  }

  // ---- inside ----

  /** A receive queue's used-buffer callback (event loop): take each frame, post its buffer again. */
  #onRxUsed(rx: NetRxQueue): void {
    if (this.#broken !== null || !this.#pairs.rx.includes(rx)) return;
    const frames: Uint8Array[] = [];
    try {
      rx.drain(frames, this.#live);
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

  /** Transmit used-buffer callback (and the watchdog's poll): the slots are free again. */
  #onTxUsed(): void {
    if (this.#broken !== null) return;
    let freed: number;
    try {
      freed = this.#pairs.reclaim();
    } catch (error) {
      this.#break(toError(error));
      return;
    }
    if (freed > 0 && this.onWritable !== null && !this.#closed) {
      const writable = this.onWritable;
      this.#call(() => writable(this.writable));
    }
  }

  /** The watchdog saw a transmit buffer held past txTimeoutMs: the device hung its
   * transmit queue. Only a reset gives the buffers back (counted in txAbandoned); the
   * device is re-initialized, this object and its callbacks stay. */
  #txStalled(ageMs: number): void {
    if (!this.#live || this.#closed || this.#unbound || this.#broken !== null) return;
    this.#stats.txTimeouts++;
    this.#report(new NetTxTimeoutError(this.location, this.#pairs.txInFlight, ageMs, this.#limits.txTimeoutMs));
    const device = this.#device;
    this.#platform.timers.set(() => void device.restart(), 0);
  }

  /** A ring rule broken by the device: stop using the queues, and have the core reset
   * and re-initialize the device (a few times at most); this object and its callbacks
   * stay, the queues and buffers are new. */
  #break(error: Error): void {
    if (this.#broken !== null) return;
    this.#broken = error;
    this.#watchdog.stop();
    this.#report(error);
    if (this.#stats.restarts >= this.#limits.maxRestarts || this.#closed || this.#unbound) return;
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
