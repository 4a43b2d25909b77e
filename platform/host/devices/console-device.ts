// virtio-console (VIRTIO 1.2 §5.3) as a host-side endpoint. Without `multiport`: port 0
// alone on queues 0 and 1. With it: max_nr_ports, the control queues (2, 3, served by
// console-control-model.ts) and a receive/transmit pair per port (port n on 2n+2, 2n+3);
// the configured ports are added once the driver sends DEVICE_READY. Tests push bytes
// towards the driver (`push` for port 0, `pushTo(id, ...)`), which go into the receive
// buffers the driver made available (a multiport port only once its guest end is open,
// as QEMU holds them); what the driver transmits collects per port (`output`, `outputOf`).
// Strict: a receive buffer that is device-readable or a transmit buffer that is
// device-writable is a violation (§5.3.6.1), so is data on a port the device never
// added, and any config write it does not accept.

import type { DeviceChain } from "../chain.js";
import type { ConfigField, DeviceContext, DeviceModel } from "../device-model.js";
import { ConsoleControlModel, type ConsolePortSpec } from "./console-control-model.js";

export { CONSOLE_CONTROL, type ConsolePortSpec } from "./console-control-model.js";

export const VIRTIO_ID_CONSOLE = 3;

/** §5.3.3 feature bits. */
export const CONSOLE_F_SIZE = 0;
export const CONSOLE_F_MULTIPORT = 1;
export const CONSOLE_F_EMERG_WRITE = 2;

export interface ConsoleDeviceOptions {
  /** Offer VIRTIO_CONSOLE_F_SIZE with these cols and rows. */
  readonly size?: { readonly cols: number; readonly rows: number };
  /** Offer MULTIPORT: control queues, max_nr_ports, the ports of `ports`. */
  readonly multiport?: boolean;
  /** With multiport: the ports added after DEVICE_READY (default: port 0, a console, as
   * QEMU's virtconsole). */
  readonly ports?: readonly ConsolePortSpec[];
  /** With multiport: max_nr_ports (default: one more than the highest port id, at least 1). */
  readonly maxNrPorts?: number;
  /** Offer EMERG_WRITE (writes to emerg_wr land in port 0's output and `emergency`). */
  readonly emergWrite?: boolean;
  /** At most this many bytes per receive buffer (default: fill it). */
  readonly maxPerBuffer?: number;
  /** QueueNumMax (default 1024). */
  readonly queueMaxSize?: number;
}

const CONFIG_SIZE = 12;

const FIELDS: readonly ConfigField[] = [
  { name: "cols", offset: 0, width: 2 },
  { name: "rows", offset: 2, width: 2 },
  { name: "max_nr_ports", offset: 4, width: 4 },
  { name: "emerg_wr", offset: 8, width: 4, writable: true },
];

/** One port's data side. */
class PortData {
  output: number[] = [];
  /** Bytes pushed towards the driver, not yet delivered (kept across a reset). */
  pending: number[] = [];
  /** Receive chains taken from the ring, waiting for bytes. */
  rxChains: DeviceChain[] = [];
}

export class ConsoleDeviceModel implements DeviceModel {
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly name = "console";
  readonly features: bigint;
  readonly queueCount: number;
  readonly config = new Uint8Array(CONFIG_SIZE);
  readonly configFields = FIELDS;
  /** Called with each piece the driver transmits on port 0 (and each emergency byte). */
  onOutput: ((bytes: Uint8Array) => void) | null = null;
  /** Bytes per receive buffer at most; change at run time (undefined = fill it). */
  maxPerBuffer: number | undefined;
  /** Receive / transmit buffers completed (all ports). */
  rxCompleted = 0;
  txCompleted = 0;
  /** Bytes written to emerg_wr, in order. */
  readonly emergency: number[] = [];
  /** The control side (multiport only). */
  readonly control: ConsoleControlModel | null;
  readonly maxNrPorts: number;
  readonly #options: ConsoleDeviceOptions;
  readonly #view: DataView;
  #ctx: DeviceContext | null = null;
  readonly #ports = new Map<number, PortData>();

  constructor(options: ConsoleDeviceOptions = {}) {
    this.#options = options;
    this.maxPerBuffer = options.maxPerBuffer;
    let features = 0n;
    if (options.size) features |= 1n << BigInt(CONSOLE_F_SIZE);
    if (options.multiport) features |= 1n << BigInt(CONSOLE_F_MULTIPORT);
    if (options.emergWrite) features |= 1n << BigInt(CONSOLE_F_EMERG_WRITE);
    this.features = features;
    const specs = options.ports ?? [{ id: 0, console: true }];
    this.maxNrPorts = options.multiport ? options.maxNrPorts ?? Math.max(1, ...specs.map((s) => s.id + 1)) : 1;
    // §5.3.2: with MULTIPORT, queues 2 and 3 are the control queues, then a pair per port 1..
    this.queueCount = options.multiport ? 2 * this.maxNrPorts + 2 : 2;
    this.control = options.multiport ? new ConsoleControlModel(() => this.#ctx, 2, 3, specs, (id) => this.#deliver(id)) : null;
    this.#view = new DataView(this.config.buffer);
    if (options.size) this.#writeSize(options.size.cols, options.size.rows);
    this.#view.setUint32(4, this.maxNrPorts, true);
  }

  queueMaxSize(): number {
    return this.#options.queueMaxSize ?? 1024;
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
  }

  reset(): void {
    for (const port of this.#ports.values()) port.rxChains = [];
    this.control?.reset();
  }

  /** Everything the driver transmitted on port 0 so far. */
  get output(): Uint8Array {
    return this.outputOf(0);
  }

  /** What the driver transmitted on port 0, as UTF-8 text. */
  get text(): string {
    return this.textOf(0);
  }

  /** Everything the driver transmitted on port `id`. */
  outputOf(id: number): Uint8Array {
    return Uint8Array.from(this.#port(id).output);
  }

  textOf(id: number): string {
    return new TextDecoder().decode(this.outputOf(id));
  }

  /** Returns port 0's output and forgets it. */
  take(): Uint8Array {
    const out = this.output;
    this.#port(0).output = [];
    return out;
  }

  /** Bytes pushed to port 0 and not yet delivered to the driver. */
  get pendingInput(): number {
    return this.#port(0).pending.length;
  }

  /** Receive buffers the device holds for port 0, waiting for input. */
  get rxBuffersHeld(): number {
    return this.#port(0).rxChains.length;
  }

  /** Receive buffers held for port `id`. */
  rxBuffersHeldOf(id: number): number {
    return this.#port(id).rxChains.length;
  }

  /** Sends bytes (or UTF-8 text) to the driver on port 0, asynchronously. */
  push(data: string | Uint8Array): void {
    this.pushTo(0, data);
  }

  /** Sends bytes (or UTF-8 text) to the driver on port `id`, asynchronously. */
  pushTo(id: number, data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const port = this.#port(id);
    for (const b of bytes) port.pending.push(b);
    this.#ctx?.later(() => this.#deliver(id));
  }

  /** Changes cols/rows and signals a configuration change (§5.3.4). */
  setSize(cols: number, rows: number): void {
    this.#writeSize(cols, rows);
    this.#ctx?.configChanged();
  }

  writeConfig(offset: number, width: number, value: number): boolean {
    const ctx = this.#ctx!;
    if (offset !== 8 || width !== 4) return false;
    if (!(ctx.driverFeatures & (1n << BigInt(CONSOLE_F_EMERG_WRITE)))) {
      ctx.violation("console-emerg-wr-not-negotiated", "emerg_wr written without VIRTIO_CONSOLE_F_EMERG_WRITE (§5.3.4)");
      return true;
    }
    this.emergency.push(value & 0xff);
    this.#emit(0, Uint8Array.of(value & 0xff));
    return true;
  }

  process(queue: number): void {
    const ctx = this.#ctx!;
    if (this.control !== null && (queue === 2 || queue === 3)) return this.control.process(queue);
    const id = queue < 2 ? 0 : (queue - 2) >> 1;
    const receive = queue % 2 === 0;
    const added = id === 0 || this.control?.port(id)?.added === true;
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      if (!added) ctx.violation("console-port-not-ready", `buffer on queue ${queue} of port ${id}, which the device has not added (§5.3.6.2)`);
      if (receive) {
        if (chain.readable.length > 0) ctx.violation("console-rx-readable", `receive buffer ${chain.head} holds ${chain.readable.length} device-readable descriptor(s) (§5.3.6.1)`);
        this.#port(id).rxChains.push(chain);
      } else {
        if (chain.writable.length > 0) ctx.violation("console-tx-writable", `transmit buffer ${chain.head} holds ${chain.writable.length} device-writable descriptor(s) (§5.3.6.1)`);
        this.#emit(id, chain.read());
        ctx.complete(chain, 0);
        this.txCompleted++;
      }
    }
    if (receive) this.#deliver(id);
  }

  #port(id: number): PortData {
    let port = this.#ports.get(id);
    if (port === undefined) {
      port = new PortData();
      this.#ports.set(id, port);
    }
    return port;
  }

  /** Moves pending input of port `id` into its held receive buffers, oldest first; a
   * multiport port only while its guest end is open (port 0 always, as before). */
  #deliver(id: number): void {
    const ctx = this.#ctx;
    if (ctx === null) return;
    if (id !== 0 && this.control?.port(id)?.guestOpen !== true) return;
    const port = this.#port(id);
    while (port.pending.length > 0 && port.rxChains.length > 0) {
      const chain = port.rxChains.shift()!;
      const room = Math.min(chain.writableLength, this.maxPerBuffer ?? Infinity);
      const piece = Uint8Array.from(port.pending.slice(0, room));
      const written = chain.write(piece);
      port.pending.splice(0, written);
      ctx.complete(chain, written);
      this.rxCompleted++;
    }
  }

  #emit(id: number, bytes: Uint8Array): void {
    const port = this.#port(id);
    for (const b of bytes) port.output.push(b);
    if (id === 0) this.onOutput?.(bytes);
  }

  #writeSize(cols: number, rows: number): void {
    this.#view.setUint16(0, cols, true);
    this.#view.setUint16(2, rows, true);
  }
}
