// The control queues of a multiport console (VIRTIO 1.2 §5.3.6.2, VIRTIO_CONSOLE_F_MULTIPORT):
// the control receiveq (queue 2, device -> driver) kept full of device-writable buffers,
// the control transmitq (queue 3, driver -> device) with a few 8-byte buffers. At start
// the driver sends DEVICE_READY; the device then adds ports (DEVICE_ADD: the port's
// receiveq is filled and PORT_READY sent), names them (PORT_NAME), nominates consoles
// (CONSOLE_PORT: answered with PORT_OPEN 1), says when its end opens or closes
// (PORT_OPEN), resizes (RESIZE) and removes ports (DEVICE_REMOVE).
// Every message is checked: its length, the event, the port id (below max_nr_ports, a port
// that exists for all but DEVICE_ADD, none added twice), the value. A device that breaks
// a rule gets a ConsoleControlError: recorded on the device, every port stops (broken)
// until the core resets and re-initializes it; the driver stays bound.

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { asError } from "../virtio/device-port.js";
import { drainQueue } from "../virtio/drain.js";
import { CONTROL_BYTES, CONTROL_EVENT_NAMES, ControlEvent, RESIZE_BYTES } from "./constants.js";
import type { ConsolePort, PortControl } from "./console-port.js";
import { ConsoleControlError } from "./errors.js";
import { utf8Decode } from "./utf8.js";

/** Control receive buffers kept on the receiveq, and their size (8 + a name of up to 248 bytes). */
const CONTROL_RX_BUFFERS = 8;
const CONTROL_RX_SIZE = 256;
/** 8-byte transmit buffers; messages beyond them wait in order for one to come back. */
const CONTROL_TX_BUFFERS = 8;
/** Messages waiting for a transmit buffer at most (a device that never returns them). */
const CONTROL_TX_BACKLOG = 256;

/** The ports of one device, as the control queue sees them. */
export interface ControlPorts {
  /** max_nr_ports from the config (§5.3.4). */
  readonly maxNrPorts: number;
  /** The port `id` this driver serves (its queues exist), or undefined. */
  served(id: number): ConsolePort | undefined;
  /** Every port served, for a name check and for breaking them all. */
  all(): readonly ConsolePort[];
}

interface Message {
  readonly id: number;
  readonly event: number;
  readonly value: number;
}

export class ConsoleControl implements PortControl {
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #ports: ControlPorts;
  #rxq: Virtqueue<DmaBuffer> | null = null;
  #txq: Virtqueue<DmaBuffer> | null = null;
  #rxIdle: DmaBuffer[] = [];
  #txIdle: DmaBuffer[] = [];
  #backlog: Message[] = [];
  #live = false;
  #broken: Error | null = null;
  /** Ports the device named in this session (a second PORT_NAME is a lie). */
  #named = new Set<number>();
  #stats = { received: 0, sent: 0 };

  constructor(device: VirtioDevice, ports: ControlPorts) {
    this.#device = device;
    this.#platform = device.platform;
    this.#ports = ports;
  }

  get broken(): Error | null {
    return this.#broken;
  }

  stats(): { readonly received: number; readonly sent: number; readonly backlog: number } {
    return { ...this.#stats, backlog: this.#backlog.length };
  }

  /** During probe: the control queues; buffers allocated (a DMA failure fails the probe). */
  attach(rxq: Virtqueue<DmaBuffer>, txq: Virtqueue<DmaBuffer>): void {
    this.#rxq = rxq;
    this.#txq = txq;
    this.#broken = null;
    this.#live = false;
    this.#named.clear();
    const dma = this.#platform.dma;
    try {
      while (this.#rxIdle.length < CONTROL_RX_BUFFERS) this.#rxIdle.push(dma.alloc(CONTROL_RX_SIZE));
      while (this.#txIdle.length < CONTROL_TX_BUFFERS) this.#txIdle.push(dma.alloc(CONTROL_BYTES));
    } catch (error) {
      this.#freeIdle();
      throw error;
    }
  }

  /** DRIVER_OK: the receiveq filled, then DEVICE_READY (§5.3.6.2: MUST be sent). */
  start(): void {
    this.#live = true;
    this.#refillRx();
    this.send(0, ControlEvent.DEVICE_READY, 1);
  }

  /** The device is reset: every buffer comes back and is freed. */
  detach(): void {
    this.#live = false;
    const dma = this.#platform.dma;
    for (const queue of [this.#rxq, this.#txq]) {
      if (queue !== null) for (const buffer of queue.detachAll()) dma.free(buffer);
    }
    this.#rxq = null;
    this.#txq = null;
    this.#backlog = [];
    this.#freeIdle();
  }

  /** PortControl: a Serial took (1) or left (0) the port. */
  guestOpen(port: ConsolePort, open: boolean): void {
    this.send(port.id, ControlEvent.PORT_OPEN, open ? 1 : 0);
  }

  /** Queues one driver -> device message; sent at once if a buffer is free. */
  send(id: number, event: number, value: number): void {
    if (!this.#live || this.#broken !== null) return;
    if (this.#backlog.length >= CONTROL_TX_BACKLOG) {
      this.#fail(new ConsoleControlError(this.#device.location, "tx-stuck", `${CONTROL_TX_BACKLOG} control messages wait: the device returns no control transmit buffer`));
      return;
    }
    this.#backlog.push({ id, event, value });
    this.#pump();
  }

  /** Used-buffer callback of the control receiveq. */
  onReceiveUsed(): void {
    const queue = this.#rxq;
    if (queue === null || this.#broken !== null) return;
    try {
      drainQueue(queue, (c) => this.#received(c));
    } catch (error) {
      this.#fail(asError(error));
      return;
    }
    this.#refillRx();
  }

  /** Used-buffer callback of the control transmitq. */
  onTransmitUsed(): void {
    const queue = this.#txq;
    if (queue === null || this.#broken !== null) return;
    try {
      drainQueue(queue, (c) => this.#txIdle.push(c.token));
    } catch (error) {
      this.#fail(asError(error));
      return;
    }
    this.#pump();
  }

  #received({ token: buffer, len }: Completion<DmaBuffer>): void {
    // The buffer is read here and goes back to the ring right after (its bytes copied out
    // as needed: a name is decoded, the rest are numbers).
    this.#rxIdle.push(buffer);
    if (this.#broken !== null) return;
    this.#stats.received++;
    const where = this.#device.location;
    if (len < CONTROL_BYTES) {
      return this.#fail(new ConsoleControlError(where, "short-message", `control message of ${len} bytes (at least ${CONTROL_BYTES})`));
    }
    const view = buffer.view;
    const message: Message = { id: view.getUint32(0, true), event: view.getUint16(4, true), value: view.getUint16(6, true) };
    const error = this.#handle(message, buffer.bytes, len);
    if (error !== null) this.#fail(error);
  }

  /** One device -> driver message; the error that breaks the control queue, or null. */
  #handle({ id, event, value }: Message, bytes: Uint8Array, len: number): ConsoleControlError | null {
    const where = this.#device.location;
    const name = CONTROL_EVENT_NAMES[event];
    const what = `${name ?? `event ${event}`} for port ${id}`;
    const lie = (kind: string, text: string) => new ConsoleControlError(where, kind, `${what}: ${text}`, id, event);
    if (name === undefined) return lie("unknown-event", "no such control event (§5.3.6.2)");
    if (event === ControlEvent.DEVICE_READY || event === ControlEvent.PORT_READY) return lie("wrong-direction", "sent by the driver only, never by the device");
    // §5.3.6.2: "MUST NOT specify ... a port which is equal or greater than max_nr_ports".
    if (id >= this.#ports.maxNrPorts) return lie("bad-port", `beyond max_nr_ports ${this.#ports.maxNrPorts}`);
    const extra = len - CONTROL_BYTES;
    if (event === ControlEvent.RESIZE ? extra !== RESIZE_BYTES : event !== ControlEvent.PORT_NAME && extra !== 0) {
      return lie("bad-length", `${len} bytes (expected ${CONTROL_BYTES + (event === ControlEvent.RESIZE ? RESIZE_BYTES : 0)})`);
    }
    const port = this.#ports.served(id);
    if (event === ControlEvent.DEVICE_ADD) {
      if (port === undefined) {
        // A port this driver has no queues for: refused, not a lie (§5.3.6.2 PORT_READY 0).
        this.send(id, ControlEvent.PORT_READY, 0);
        return null;
      }
      // §5.3.6.2: "MUST NOT specify a port which exists in a VIRTIO_CONSOLE_DEVICE_ADD message"
      // (port 0 is live from DRIVER_OK, so its first add is expected).
      // (hostOpen is null until the device added the port in this session: port 0 is live
      // from DRIVER_OK, so its first add is expected.)
      if (port.present && port.hostOpen !== null) return lie("duplicate-add", "the port exists already");
      if (!port.present) port.start();
      port.hostOpened(false);
      this.send(id, ControlEvent.PORT_READY, 1);
      // A Serial that holds the port already (port 0, a port added again) opens it now.
      if (port.opened) this.send(id, ControlEvent.PORT_OPEN, 1);
      return null;
    }
    // §5.3.6.2: "MUST NOT specify a port in VIRTIO_CONSOLE_DEVICE_REMOVE which has not been
    // created"; the other events name a port just as much.
    if (port === undefined || !port.present || port.hostOpen === null) return lie("unknown-port", "no such port was added");
    switch (event) {
      case ControlEvent.DEVICE_REMOVE:
        port.removed();
        this.#named.delete(id);
        return null;
      case ControlEvent.CONSOLE_PORT:
        port.nominatedConsole();
        // §5.3.6.2: "MUST respond with a VIRTIO_CONSOLE_PORT_OPEN message, ... value set to 1".
        this.send(id, ControlEvent.PORT_OPEN, 1);
        return null;
      case ControlEvent.RESIZE: {
        const view = new DataView(bytes.buffer, bytes.byteOffset + CONTROL_BYTES, RESIZE_BYTES);
        port.resized({ cols: view.getUint16(0, true), rows: view.getUint16(2, true) });
        return null;
      }
      case ControlEvent.PORT_OPEN:
        if (value > 1) return lie("bad-value", `value ${value} (0 closed or 1 open)`);
        port.hostOpened(value === 1);
        return null;
      case ControlEvent.PORT_NAME: {
        if (this.#named.has(id)) return lie("duplicate-name", "the port was named already");
        if (extra === 0) return lie("bad-length", "an empty name");
        // §5.3.6.2 says no NUL terminator; QEMU sends one: the name ends at the first NUL.
        const raw = bytes.subarray(CONTROL_BYTES, len);
        const nul = raw.indexOf(0);
        if (nul === 0) return lie("bad-length", "an empty name");
        const portName = utf8Decode(nul < 0 ? raw : raw.subarray(0, nul));
        const other = this.#ports.all().find((p) => p !== port && p.present && p.name === portName);
        if (other !== undefined) return lie("duplicate-name", `port ${other.id} has the name ${JSON.stringify(portName)} already`);
        this.#named.add(id);
        port.named(portName);
        return null;
      }
    }
    return null;
  }

  /** Puts idle receive buffers back on the control receiveq, then one kick. */
  #refillRx(): void {
    const queue = this.#rxq;
    if (queue === null || !this.#live || this.#broken !== null) return;
    let added = 0;
    try {
      while (this.#rxIdle.length > 0 && queue.freeCount > 0) {
        const buffer = this.#rxIdle[this.#rxIdle.length - 1]!;
        queue.add([], [{ phys: buffer.phys, len: CONTROL_RX_SIZE }], buffer);
        this.#rxIdle.pop();
        added++;
      }
      if (added > 0) queue.kick();
    } catch (error) {
      this.#fail(asError(error));
    }
  }

  /** Sends waiting messages while transmit buffers are free, then one kick. */
  #pump(): void {
    const queue = this.#txq;
    if (queue === null || !this.#live || this.#broken !== null || !this.#device.live) return;
    let added = 0;
    try {
      while (this.#backlog.length > 0 && this.#txIdle.length > 0 && queue.freeCount > 0) {
        const message = this.#backlog[0]!;
        const buffer = this.#txIdle[this.#txIdle.length - 1]!;
        const view = buffer.view;
        view.setUint32(0, message.id, true);
        view.setUint16(4, message.event, true);
        view.setUint16(6, message.value, true);
        queue.add([{ phys: buffer.phys, len: CONTROL_BYTES }], [], buffer);
        this.#txIdle.pop();
        this.#backlog.shift();
        this.#stats.sent++;
        added++;
      }
      if (added > 0) queue.kick();
    } catch (error) {
      this.#fail(asError(error));
    }
  }

  #fail(error: Error): void {
    if (this.#broken !== null) return;
    this.#broken = error;
    this.#backlog = [];
    this.#device.reportError(error);
    for (const port of this.#ports.all()) port.markBroken(error);
  }

  #freeIdle(): void {
    const dma = this.#platform.dma;
    for (const buffer of this.#rxIdle) dma.free(buffer);
    for (const buffer of this.#txIdle) dma.free(buffer);
    this.#rxIdle = [];
    this.#txIdle = [];
  }
}
