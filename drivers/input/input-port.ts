// One virtio input device as the driver keeps it (VIRTIO 1.2 §5.8): what the device is
// (read at probe), the eventq kept full of 8-byte device-writable buffers, the statusq for
// LED writes, and the events received and not yet read (bounded: the oldest are dropped
// and counted). It lives as long as its device is bound, across re-initializations; at
// most one listener (an InputDevice, input-device.ts) hears about events.

import type { DmaBuffer } from "../../platform/platform.js";
import type { Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { asError, DevicePort } from "../virtio/device-port.js";
import { drainQueue } from "../virtio/drain.js";
import type { RemoveReason } from "../virtio/driver.js";
import { DeviceRemovedError, DeviceStateError } from "../virtio/errors.js";
import { EVENT_SIZE } from "./constants.js";

/** A status slot: the event (device-readable), then an 8-byte device-writable tail. */
const STATUS_SLOT = 2 * EVENT_SIZE;
import { InputEventError, InputStatusBusyError } from "./errors.js";
import type { InputInfo } from "./input-config.js";

/** struct virtio_input_event (§5.8.6), little-endian on the wire. */
export interface InputEvent {
  readonly type: number;
  readonly code: number;
  /** Signed, as evdev values are (relative motion can be negative). */
  readonly value: number;
}

export interface InputPortOptions {
  /** Event buffers kept on the eventq. Default 64. */
  readonly eventBuffers?: number;
  /** Status buffers (LED writes in flight at most). Default 8. */
  readonly statusBuffers?: number;
  /** Events kept for read() before the oldest are dropped. Default 256. */
  readonly maxQueued?: number;
}

export interface InputListener {
  /** Return true if the event was taken (not queued for read()). */
  event(event: InputEvent): boolean;
  readable(count: number): void;
  error(error: Error): void;
}

export interface InputStats {
  readonly events: number;
  /** Events dropped because nobody read them in time (the queue was full). */
  readonly dropped: number;
  /** Event buffers that came back shorter than 8 bytes. */
  readonly badEvents: number;
  readonly statusSent: number;
}

function count(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw new RangeError(`${name} ${value} must be an integer from 1 to ${max}`);
  return value;
}

export class InputPort extends DevicePort<InputListener> {
  readonly #eventCount: number;
  readonly #statusCount: number;
  readonly #maxQueued: number;
  #info: InputInfo | null = null;
  #eventq: Virtqueue<number> | null = null;
  #statusq: Virtqueue<number> | null = null;
  /** eventCount slots of 8 bytes; a slot index is the chain's token. */
  #eventMemory: DmaBuffer | null = null;
  #statusMemory: DmaBuffer | null = null;
  #statusFree: number[] = [];
  #queued: InputEvent[] = [];
  #newlyQueued = 0;
  #statusBroken: Error | null = null;
  #stats = { events: 0, dropped: 0, badEvents: 0, statusSent: 0 };

  constructor(device: VirtioDevice, options: InputPortOptions = {}) {
    super(device);
    this.#eventCount = count("eventBuffers", options.eventBuffers ?? 64, 4096);
    this.#statusCount = count("statusBuffers", options.statusBuffers ?? 8, 4096);
    this.#maxQueued = count("maxQueued", options.maxQueued ?? 256, 1 << 20);
  }

  /** What the device said about itself (name, serial, ids, bits, abs), once probed. */
  get info(): InputInfo | null {
    return this.#info;
  }

  /** Events received and not read. */
  get queued(): number {
    return this.#queued.length;
  }

  stats(): InputStats {
    return { ...this.#stats };
  }

  listen(listener: InputListener): boolean {
    return this.takeListener(listener);
  }

  /** The oldest event not yet read, or undefined. */
  read(): InputEvent | undefined {
    return this.#queued.shift();
  }

  /**
   * Sends one event to the device on the statusq (§5.8.6: LED state, for instance). The
   * chain is the 8-byte event (device-readable) and an 8-byte device-writable tail the
   * driver never reads: QEMU (7.2) reports the bytes it read as the used length, which
   * would otherwise break the ring's rule (used len ≤ writable bytes) on every LED write.
   * A statusq failure stops LED writes only; events keep flowing.
   */
  sendStatus(event: InputEvent): void {
    const queue = this.#statusq;
    const memory = this.#statusMemory;
    if (this.closed) throw new DeviceRemovedError(this.location, "device unbound");
    if (this.#statusBroken !== null) throw this.#statusBroken;
    if (queue === null || memory === null || !this.live) throw new DeviceStateError(this.location, this.device.state, "send a status event");
    const slot = queue.freeCount >= 2 ? this.#statusFree.pop() : undefined;
    if (slot === undefined) throw new InputStatusBusyError(this.location);
    const at = slot * STATUS_SLOT;
    memory.view.setUint16(at, event.type, true);
    memory.view.setUint16(at + 2, event.code, true);
    memory.view.setInt32(at + 4, event.value, true);
    try {
      // §5.8.6.1: status buffers are device-readable and at least 8 bytes.
      queue.add([{ phys: memory.phys + at, len: EVENT_SIZE }], [{ phys: memory.phys + at + EVENT_SIZE, len: EVENT_SIZE }], slot);
      queue.kick();
    } catch (error) {
      this.#statusFree.push(slot);
      this.#breakStatus(asError(error));
      throw this.#statusBroken;
    }
    this.#stats.statusSent++;
  }

  // ---- called by the driver ----

  /** During probe: the device's description and new queues; buffers on first use. */
  attach(info: InputInfo, eventq: Virtqueue<number>, statusq: Virtqueue<number>): void {
    this.#info = info;
    this.#eventq = eventq;
    this.#statusq = statusq;
    this.attached();
    this.#statusBroken = null;
    const dma = this.platform.dma;
    if (this.#eventMemory === null) this.#eventMemory = dma.alloc(this.#eventCount * EVENT_SIZE, EVENT_SIZE);
    if (this.#statusMemory === null) this.#statusMemory = dma.alloc(this.#statusCount * STATUS_SLOT, EVENT_SIZE);
    this.#statusFree = [];
    for (let i = this.#statusCount - 1; i >= 0; i--) this.#statusFree.push(i);
  }

  /** Once DRIVER_OK is set: populate the eventq (§5.8.6.1 "SHOULD keep ... populated"). */
  start(): void {
    this.started();
    const queue = this.#eventq;
    if (queue === null) return;
    try {
      for (let slot = 0; slot < this.#eventCount && queue.freeCount > 0; slot++) this.#postEvent(queue, slot);
      queue.kick();
    } catch (error) {
      this.fail(asError(error));
    }
  }

  /** From the driver's remove(): the device is reset; buffers come back and are freed. */
  detach(reason: RemoveReason): void {
    for (const queue of [this.#eventq, this.#statusq]) queue?.detachAll();
    this.#eventq = null;
    this.#statusq = null;
    const dma = this.platform.dma;
    if (this.#eventMemory !== null) dma.free(this.#eventMemory);
    if (this.#statusMemory !== null) dma.free(this.#statusMemory);
    this.#eventMemory = null;
    this.#statusMemory = null;
    this.#statusFree = [];
    this.detached(reason);
  }

  /** Used-buffer callback of the eventq: each event is validated, delivered, and its
   * buffer goes straight back on the ring. */
  onEventUsed(): void {
    const queue = this.#eventq;
    if (queue === null || this.broken !== null) return;
    this.#newlyQueued = 0;
    const reposted: number[] = [];
    try {
      drainQueue(queue, (c) => {
        this.#received(c);
        reposted.push(c.token);
      });
      for (const slot of reposted) this.#postEvent(queue, slot);
      if (reposted.length > 0) queue.kick();
    } catch (error) {
      this.fail(asError(error));
      return;
    }
    if (this.#newlyQueued > 0) {
      const n = this.#queued.length;
      this.tell((l) => l.readable(n));
    }
  }

  /** Used-buffer callback of the statusq: the device has read the status event. */
  onStatusUsed(): void {
    const queue = this.#statusq;
    if (queue === null || this.#statusBroken !== null) return;
    try {
      drainQueue(queue, (c) => this.#statusFree.push(c.token));
    } catch (error) {
      this.#breakStatus(asError(error));
    }
  }

  #postEvent(queue: Virtqueue<number>, slot: number): void {
    const memory = this.#eventMemory!;
    // §5.8.6.1: event buffers are device-writable and at least 8 bytes.
    queue.add([], [{ phys: memory.phys + slot * EVENT_SIZE, len: EVENT_SIZE }], slot);
  }

  /** One event buffer came back (len ≤ 8 checked by the ring). */
  #received({ token: slot, len }: Completion<number>): void {
    if (len < EVENT_SIZE) {
      this.#stats.badEvents++;
      const error = new InputEventError(this.location, len);
      this.device.reportError(error);
      this.tell((l) => l.error(error));
      return;
    }
    const view = this.#eventMemory!.view;
    const at = slot * EVENT_SIZE;
    const event: InputEvent = { type: view.getUint16(at, true), code: view.getUint16(at + 2, true), value: view.getInt32(at + 4, true) };
    this.#stats.events++;
    const listener = this.listener;
    if (listener !== null) {
      let taken = false;
      try {
        taken = listener.event(event);
      } catch (error) {
        this.device.reportError(asError(error));
        taken = true;
      }
      if (taken) return;
    }
    if (this.#queued.length >= this.#maxQueued) {
      this.#queued.shift();
      this.#stats.dropped++;
    }
    this.#queued.push(event);
    this.#newlyQueued++;
  }

  /** The statusq broke a rule: LED writes fail from now on (until a re-init); events go on. */
  #breakStatus(error: Error): void {
    if (this.#statusBroken !== null) return;
    this.#statusBroken = error;
    this.device.reportError(error);
    this.tell((l) => l.error(error));
  }}
