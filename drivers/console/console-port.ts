// One port of a virtio console device (VIRTIO 1.2 §5.3): the port's receiveq kept full of
// device-writable buffers, a bounded set of transmit buffers, the bytes received and not
// yet read, the console size, and with MULTIPORT what the control queues said of it (its
// name, whether the host end is open, whether it is a console). One ConsolePort lives as
// long as its device is bound and survives re-initializations (the driver re-attaches new
// queues to it). Port 0 is live from DRIVER_OK; a port n from the device's DEVICE_ADD to
// its DEVICE_REMOVE. At most one listener (a Serial, serial.ts) is told when bytes arrive
// or room frees up; with MULTIPORT, taking and leaving the port sends PORT_OPEN 1 / 0.

import type { DmaBuffer } from "../../platform/platform.js";
import type { Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { asError, DevicePort } from "../virtio/device-port.js";
import { drainQueue } from "../virtio/drain.js";
import type { RemoveReason } from "../virtio/driver.js";
import { DeviceRemovedError, DeviceStateError, RequestTimeoutError } from "../virtio/errors.js";
import { TxWatchdog } from "../virtio/tx-watchdog.js";
import { ConsoleBusyError, ConsoleWriteError } from "./errors.js";
import type { ConsoleListener, ConsolePortOptions, ConsoleSize, ConsoleStats, PortControl } from "./console-types.js";

export type { ConsoleListener, ConsolePortOptions, ConsoleSize, ConsoleStats, PortControl } from "./console-types.js";

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 1 << 20) throw new RangeError(`${name} ${value} must be an integer from 1 to ${1 << 20}`);
  return value;
}

export class ConsolePort extends DevicePort<ConsoleListener> {
  /** The port number (§5.3.6.2 `id`); 0 without MULTIPORT. */
  readonly id: number;
  readonly #control: PortControl | null;
  /** Added by the device (DEVICE_ADD; port 0: from DRIVER_OK) and not removed since. */
  #present = false;
  #name: string | null = null;
  #hostOpen: boolean | null = null;
  #isConsole = false;
  readonly #rxCount: number;
  readonly #rxSize: number;
  readonly #txCount: number;
  readonly #txSize: number;
  readonly #rxLimit: number;
  #rxq: Virtqueue<DmaBuffer> | null = null;
  #txq: Virtqueue<DmaBuffer> | null = null;
  /** Receive buffers owned by the driver and not on the ring (before start, or held). */
  #rxIdle: DmaBuffer[] = [];
  /** Transmit buffers free for write(). */
  #txIdle: DmaBuffer[] = [];
  /** Received bytes not yet read, oldest first; #fifoHead bytes of the first are read. */
  #fifo: Uint8Array[] = [];
  #fifoHead = 0;
  #fifoBytes = 0;
  #size: ConsoleSize | null = null;
  readonly #txWatchdog: TxWatchdog;
  #stats = { bytesReceived: 0, bytesSent: 0, rxCompletions: 0, txCompletions: 0, rxHeld: 0, resizes: 0, txTimeouts: 0 };

  constructor(device: VirtioDevice, options: ConsolePortOptions = {}, id = 0, control: PortControl | null = null) {
    super(device);
    this.id = id;
    this.#control = control;
    this.#rxCount = positive("rxBuffers", options.rxBuffers ?? 8);
    this.#rxSize = positive("rxBufferSize", options.rxBufferSize ?? 512);
    this.#txCount = positive("txBuffers", options.txBuffers ?? 8);
    this.#txSize = positive("txBufferSize", options.txBufferSize ?? 512);
    this.#rxLimit = Math.max(positive("rxLimit", options.rxLimit ?? 2 * this.#rxCount * this.#rxSize), this.#rxSize);
    const txTimeoutMs = options.txTimeoutMs ?? 5000;
    if (!Number.isInteger(txTimeoutMs) || txTimeoutMs < 0) throw new RangeError(`txTimeoutMs ${txTimeoutMs} must be a non-negative integer`);
    // No transmit buffer back for txTimeoutMs while some are out: a stall.
    this.#txWatchdog = new TxWatchdog({
      platform: device.platform,
      timeoutMs: txTimeoutMs,
      poll: () => this.onTransmitUsed(),
      busy: () => this.#txq !== null && this.#txq.inFlight > 0 && this.live,
      onStall: () => this.#txStalled(txTimeoutMs),
    });
  }

  override get location(): string {
    return this.id === 0 ? this.device.location : `${this.device.location} port ${this.id}`;
  }

  /** Live (DevicePort) and added by the device, not removed. */
  override get live(): boolean {
    return this.#present && super.live;
  }

  /** The device added it (port 0: always once started) and did not remove it. */
  get present(): boolean {
    return this.#present;
  }

  /** The name the device gave (PORT_NAME), or null. */
  get name(): string | null {
    return this.#name;
  }

  /** Whether the host end is open (PORT_OPEN from the device); null without MULTIPORT. */
  get hostOpen(): boolean | null {
    return this.#hostOpen;
  }

  /** The device nominated it a console (CONSOLE_PORT). */
  get isConsole(): boolean {
    return this.#isConsole;
  }

  /** cols/rows from the config space, or null when the device does not offer SIZE. */
  get size(): ConsoleSize | null {
    return this.#size;
  }

  /** Bytes received and not yet read. */
  get readable(): number {
    return this.#fifoBytes;
  }

  /** Bytes write() accepts now. */
  get writable(): number {
    const queue = this.#txq;
    if (queue === null || !this.live || this.broken !== null) return 0;
    // Each buffer is one descriptor (a one-buffer chain never goes indirect).
    return Math.min(this.#txIdle.length, queue.freeCount) * this.#txSize;
  }

  stats(): ConsoleStats {
    return { ...this.#stats };
  }

  /** Makes `listener` the port's only listener (ConsoleBusyError if it has one). */
  listen(listener: ConsoleListener): void {
    const had = this.opened;
    if (!this.takeListener(listener)) throw new ConsoleBusyError(this.location);
    // §5.3.6.2 PORT_OPEN: the guest end opens with the Serial (a console is open already).
    if (!had && this.live && this.#hostOpen !== null && !this.#isConsole) this.#control?.guestOpen(this, true);
  }

  override unlisten(listener: ConsoleListener): void {
    const had = this.opened;
    super.unlisten(listener);
    if (had && !this.opened && this.live && this.#hostOpen !== null && !this.#isConsole) this.#control?.guestOpen(this, false);
  }

  /** Takes up to `max` received bytes (all by default); undefined when none arrived. */
  read(max = Infinity): Uint8Array | undefined {
    if (this.#fifoBytes === 0 || !(max >= 1)) return undefined;
    const count = Math.min(Math.floor(max), this.#fifoBytes);
    const out = new Uint8Array(count);
    let at = 0;
    while (at < count) {
      const chunk = this.#fifo[0]!;
      const n = Math.min(chunk.length - this.#fifoHead, count - at);
      out.set(chunk.subarray(this.#fifoHead, this.#fifoHead + n), at);
      at += n;
      this.#fifoHead += n;
      if (this.#fifoHead === chunk.length) {
        this.#fifo.shift();
        this.#fifoHead = 0;
      }
    }
    this.#fifoBytes -= count;
    this.#refillRx();
    return out;
  }

  /**
   * Copies `bytes` into free transmit buffers and makes them available (one kick).
   * ConsoleWriteError if they do not all fit (see `writable`); nothing is sent then.
   */
  write(bytes: Uint8Array): void {
    const queue = this.#txq;
    if (this.closed) throw new DeviceRemovedError(this.location, "device unbound");
    if (this.broken !== null) throw this.broken;
    if (queue === null || !this.live) throw new DeviceStateError(this.location, this.device.state, "write to the console");
    if (bytes.length > this.writable) throw new ConsoleWriteError(this.location, bytes.length, this.writable);
    if (bytes.length === 0) return;
    try {
      for (let at = 0; at < bytes.length; at += this.#txSize) {
        const n = Math.min(this.#txSize, bytes.length - at);
        const buffer = this.#txIdle.pop()!;
        buffer.bytes.set(bytes.subarray(at, at + n));
        try {
          // §5.3.6.1: transmit buffers are device-readable only.
          queue.add([{ phys: buffer.phys, len: n }], [], buffer);
        } catch (error) {
          this.#txIdle.push(buffer); // still ours: freed with the others
          throw error;
        }
      }
      queue.kick();
    } catch (error) {
      this.fail(asError(error));
      throw this.broken;
    }
    this.#txWatchdog.arm();
    this.#stats.bytesSent += bytes.length;
  }

  // ---- called by the driver ----

  /** During probe: the new queues and the size read from the config; allocates the
   * buffers on first use (a DMA failure fails the probe). */
  attach(rxq: Virtqueue<DmaBuffer>, txq: Virtqueue<DmaBuffer>, size: ConsoleSize | null): void {
    this.#rxq = rxq;
    this.#txq = txq;
    this.#size = size;
    this.attached();
    const dma = this.platform.dma;
    try {
      while (this.#rxIdle.length < this.#rxCount) this.#rxIdle.push(dma.alloc(this.#rxSize));
      while (this.#txIdle.length < this.#txCount) this.#txIdle.push(dma.alloc(this.#txSize));
    } catch (error) {
      this.#freeIdle();
      throw error;
    }
  }

  /** Port 0 once DRIVER_OK is set, a port n at DEVICE_ADD: fill the receiveq (§5.3.6.1
   * "SHOULD ... keep it filled"), kick. */
  start(): void {
    this.#present = true;
    this.started();
    this.#refillRx();
    this.#notifyWritable();
  }

  // ---- called by the control queue (MULTIPORT, §5.3.6.2) ----

  /** DEVICE_REMOVE: not live; its buffers stay on the ring (the device's until a reset),
   * its Serial hears DeviceRemovedError. */
  removed(): void {
    if (!this.#present) return;
    this.#present = false;
    this.#hostOpen = false;
    this.#isConsole = false;
    this.#txWatchdog.stop();
    const error = new DeviceRemovedError(this.location, "port removed");
    this.tell((l) => l.error(error));
  }

  named(name: string): void {
    this.#name = name;
  }

  hostOpened(open: boolean): void {
    this.#hostOpen = open;
  }

  nominatedConsole(): void {
    this.#isConsole = true;
  }

  /** The control queue broke (a device's lie): this port stops too, until a reset. */
  markBroken(error: Error): void {
    this.fail(error);
  }

  /** From the driver's remove(): the device is reset, so every buffer comes back and is
   * freed. Bytes received and not read stay readable. */
  detach(reason: RemoveReason): void {
    this.#txWatchdog.stop();
    this.#present = false;
    this.#hostOpen = null;
    this.#isConsole = false;
    const dma = this.platform.dma;
    for (const queue of [this.#rxq, this.#txq]) {
      if (queue !== null) for (const buffer of queue.detachAll()) dma.free(buffer);
    }
    this.#rxq = null;
    this.#txq = null;
    this.#freeIdle();
    this.detached(reason);
  }

  /** The device changed its configuration (§5.3.4: the size may have changed). */
  resized(size: ConsoleSize | null): void {
    if (size !== null && (this.#size === null || size.cols !== this.#size.cols || size.rows !== this.#size.rows)) this.#stats.resizes++;
    this.#size = size;
  }

  /** Used-buffer callback of the receiveq. */
  onReceiveUsed(): void {
    const queue = this.#rxq;
    if (queue === null || this.broken !== null) return;
    const before = this.#fifoBytes;
    try {
      drainQueue(queue, (c) => this.#received(c));
    } catch (error) {
      this.fail(asError(error));
      return;
    }
    this.#refillRx();
    if (this.#fifoBytes > before) this.tell((l) => l.readable(this.#fifoBytes));
  }

  /** Used-buffer callback of the transmitq. */
  onTransmitUsed(): void {
    const queue = this.#txq;
    if (queue === null || this.broken !== null) return;
    const before = this.#txIdle.length;
    try {
      // The ring already checked len ≤ the chain's writable bytes, which is 0 here.
      drainQueue(queue, (c) => {
        this.#txIdle.push(c.token);
        this.#stats.txCompletions++;
      });
      if (this.#txIdle.length > before) this.#txWatchdog.progress();
    } catch (error) {
      this.fail(asError(error));
      return;
    }
    if (this.#txIdle.length > before) this.#notifyWritable();
  }

  /** One receive buffer came back with `len` bytes (checked ≤ its size by the ring). */
  #received({ token: buffer, len }: Completion<DmaBuffer>): void {
    this.#stats.rxCompletions++;
    if (len > 0) {
      this.#fifo.push(buffer.bytes.slice(0, len));
      this.#fifoBytes += len;
      this.#stats.bytesReceived += len;
    }
    this.#rxIdle.push(buffer);
  }

  /** Puts idle receive buffers back on the ring while the reader keeps up, then one kick. */
  #refillRx(): void {
    const queue = this.#rxq;
    if (queue === null || !this.live || this.broken !== null) return;
    let added = 0;
    try {
      // Unread bytes plus what the posted buffers could still bring stay within rxLimit.
      while (this.#rxIdle.length > 0 && queue.freeCount > 0 && this.#fifoBytes + (queue.inFlight + 1) * this.#rxSize <= this.#rxLimit) {
        const buffer = this.#rxIdle[this.#rxIdle.length - 1]!;
        // §5.3.6.1: receive buffers are device-writable only.
        queue.add([], [{ phys: buffer.phys, len: this.#rxSize }], buffer);
        this.#rxIdle.pop(); // on the ring now (if add threw, it stays idle and ours)
        added++;
      }
      if (this.#rxIdle.length > 0) this.#stats.rxHeld++;
      if (added > 0) queue.kick();
    } catch (error) {
      this.fail(asError(error));
    }
  }

  /** The device kept transmit buffers past the timeout: only a reset takes them back
   * (§2.4), so re-initialize it; the port stays, its Serial hears the reset. */
  #txStalled(timeoutMs: number): void {
    this.#stats.txTimeouts++;
    this.device.reportError(new RequestTimeoutError(this.location, timeoutMs));
    void this.device.restart();
  }

  #notifyWritable(): void {
    const count = this.writable;
    if (count > 0) this.tell((l) => l.writable(count));
  }

  #freeIdle(): void {
    const dma = this.platform.dma;
    for (const buffer of this.#rxIdle) dma.free(buffer);
    for (const buffer of this.#txIdle) dma.free(buffer);
    this.#rxIdle = [];
    this.#txIdle = [];
  }}
