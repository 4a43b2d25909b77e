// The device side of a multiport console's control queues (VIRTIO 1.2 §5.3.6.2), for the
// host console model (console-device.ts). It waits for the driver's DEVICE_READY, then
// adds each configured port (DEVICE_ADD); on the driver's PORT_READY it sends CONSOLE_PORT,
// PORT_NAME and PORT_OPEN (host end connected) as QEMU's virtio-serial does. Strict: a
// control buffer that is not one device-readable 8-byte message, an unknown event, a
// message before DEVICE_READY, DEVICE_READY twice, PORT_READY or PORT_OPEN for a port the
// device never added (or PORT_READY twice) are violations. Tests may send any message,
// lies included (`send`), add and remove ports at run time.

import type { DeviceChain } from "../chain.js";
import type { DeviceContext } from "../device-model.js";

/** §5.3.6.2 control events. */
export const CONSOLE_CONTROL = {
  DEVICE_READY: 0,
  DEVICE_ADD: 1,
  DEVICE_REMOVE: 2,
  PORT_READY: 3,
  CONSOLE_PORT: 4,
  RESIZE: 5,
  PORT_OPEN: 6,
  PORT_NAME: 7,
} as const;

/** One port of the model (MULTIPORT). */
export interface ConsolePortSpec {
  readonly id: number;
  readonly name?: string;
  /** Nominated a console (CONSOLE_PORT). */
  readonly console?: boolean;
  /** The host end is connected (PORT_OPEN 1 after PORT_READY). Default true. */
  readonly hostOpen?: boolean;
}

/** What the control side knows of a port, per session. */
export interface ControlPortState {
  added: boolean;
  ready: boolean;
  /** The driver's end is open (PORT_OPEN from the driver). */
  guestOpen: boolean;
}

export interface ControlLogEntry {
  readonly id: number;
  readonly event: number;
  readonly value: number;
}

export class ConsoleControlModel {
  readonly #ctx: () => DeviceContext | null;
  readonly #rxQueue: number;
  readonly #txQueue: number;
  readonly #specs: ConsolePortSpec[];
  readonly #onGuestOpen: (id: number) => void;
  /** Messages for the driver, waiting for a control receive buffer. */
  #out: Uint8Array[] = [];
  #rxChains: DeviceChain[] = [];
  #deviceReady = false;
  readonly #ports = new Map<number, ControlPortState>();
  /** Every message the driver sent, in order (tests read it). */
  readonly log: ControlLogEntry[] = [];

  constructor(ctx: () => DeviceContext | null, rxQueue: number, txQueue: number, specs: readonly ConsolePortSpec[], onGuestOpen: (id: number) => void) {
    this.#ctx = ctx;
    this.#rxQueue = rxQueue;
    this.#txQueue = txQueue;
    this.#specs = [...specs];
    this.#onGuestOpen = onGuestOpen;
  }

  get deviceReady(): boolean {
    return this.#deviceReady;
  }

  /** The session state of port `id` (undefined: never added in this session). */
  port(id: number): ControlPortState | undefined {
    return this.#ports.get(id);
  }

  reset(): void {
    this.#out = [];
    this.#rxChains = [];
    this.#deviceReady = false;
    this.#ports.clear();
  }

  /** Sends one message to the driver as is: any id, event, value and trailing bytes. */
  send(id: number, event: number, value = 0, extra: Uint8Array = new Uint8Array(0)): void {
    const message = new Uint8Array(8 + extra.length);
    const view = new DataView(message.buffer);
    view.setUint32(0, id, true);
    view.setUint16(4, event, true);
    view.setUint16(6, value, true);
    message.set(extra, 8);
    this.sendBytes(message);
  }

  /** Sends raw bytes as one control message (a lie when not a whole message). */
  sendBytes(message: Uint8Array): void {
    this.#out.push(message);
    this.#ctx()?.later(() => this.#deliver());
  }

  /** Hot-plugs a port (DEVICE_ADD now if the driver is ready). */
  add(spec: ConsolePortSpec): void {
    this.#specs.push(spec);
    if (this.#deviceReady) this.#announce(spec);
  }

  /** Hot-unplugs a port (DEVICE_REMOVE). */
  remove(id: number): void {
    const i = this.#specs.findIndex((s) => s.id === id);
    if (i >= 0) this.#specs.splice(i, 1);
    this.#ports.delete(id);
    this.send(id, CONSOLE_CONTROL.DEVICE_REMOVE);
  }

  /** The host end of port `id` connects or disconnects (PORT_OPEN). */
  hostOpen(id: number, open: boolean): void {
    this.send(id, CONSOLE_CONTROL.PORT_OPEN, open ? 1 : 0);
  }

  /** Sends RESIZE for port `id`. */
  resize(id: number, cols: number, rows: number): void {
    const extra = new Uint8Array(4);
    new DataView(extra.buffer).setUint16(0, cols, true);
    new DataView(extra.buffer).setUint16(2, rows, true);
    this.send(id, CONSOLE_CONTROL.RESIZE, 0, extra);
  }

  process(queue: number): void {
    const ctx = this.#ctx()!;
    if (queue === this.#rxQueue) {
      for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
        if (chain.readable.length > 0) ctx.violation("console-control-rx-readable", `control receive buffer ${chain.head} holds device-readable descriptors (§5.3.6.1)`);
        this.#rxChains.push(chain);
      }
      this.#deliver();
      return;
    }
    if (queue !== this.#txQueue) return;
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      if (chain.writable.length > 0) ctx.violation("console-control-tx-writable", `control transmit buffer ${chain.head} holds device-writable descriptors (§5.3.6.1)`);
      const bytes = chain.read();
      ctx.complete(chain, 0);
      if (bytes.length !== 8) {
        ctx.violation("console-control-size", `control message of ${bytes.length} bytes (struct virtio_console_control is 8, §5.3.6.2)`);
        continue;
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
      this.#received(view.getUint32(0, true), view.getUint16(4, true), view.getUint16(6, true));
    }
  }

  #received(id: number, event: number, value: number): void {
    const ctx = this.#ctx()!;
    this.log.push({ id, event, value });
    if (event === CONSOLE_CONTROL.DEVICE_READY) {
      if (this.#deviceReady) ctx.violation("console-device-ready-twice", "DEVICE_READY sent twice (§5.3.6.2)");
      if (value !== 1) return;
      this.#deviceReady = true;
      for (const spec of this.#specs) this.#announce(spec);
      return;
    }
    if (!this.#deviceReady) {
      ctx.violation("console-control-before-ready", `control event ${event} for port ${id} before DEVICE_READY (§5.3.6.2)`);
      return;
    }
    const port = this.#ports.get(id);
    switch (event) {
      case CONSOLE_CONTROL.PORT_READY: {
        if (port === undefined) return ctx.violation("console-port-ready-unknown", `PORT_READY for port ${id}, which the device never added (§5.3.6.2)`);
        if (port.ready) return ctx.violation("console-port-ready-twice", `PORT_READY for port ${id} twice`);
        if (value !== 1) return;
        port.ready = true;
        const spec = this.#specs.find((s) => s.id === id);
        if (spec?.console) this.send(id, CONSOLE_CONTROL.CONSOLE_PORT, 1);
        if (spec?.name !== undefined) this.send(id, CONSOLE_CONTROL.PORT_NAME, 1, new TextEncoder().encode(spec.name));
        if (spec?.hostOpen ?? true) this.send(id, CONSOLE_CONTROL.PORT_OPEN, 1);
        return;
      }
      case CONSOLE_CONTROL.PORT_OPEN:
        if (port === undefined || !port.ready) return ctx.violation("console-port-open-unknown", `PORT_OPEN for port ${id}, which is not added and ready (§5.3.6.2)`);
        if (value > 1) return ctx.violation("console-port-open-value", `PORT_OPEN value ${value} (0 or 1)`);
        port.guestOpen = value === 1;
        if (port.guestOpen) this.#onGuestOpen(id);
        return;
      default:
        ctx.violation("console-control-event", `event ${event} from the driver (only DEVICE_READY, PORT_READY and PORT_OPEN are the driver's, §5.3.6.2)`);
    }
  }

  #announce(spec: ConsolePortSpec): void {
    this.#ports.set(spec.id, { added: true, ready: false, guestOpen: false });
    this.send(spec.id, CONSOLE_CONTROL.DEVICE_ADD);
  }

  #deliver(): void {
    const ctx = this.#ctx();
    if (ctx === null) return;
    while (this.#out.length > 0 && this.#rxChains.length > 0) {
      const chain = this.#rxChains.shift()!;
      const message = this.#out.shift()!;
      ctx.complete(chain, chain.write(message));
    }
  }
}
