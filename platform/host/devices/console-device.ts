// virtio-console (VIRTIO 1.2 §5.3) as a host-side endpoint: port 0 only. Tests push
// bytes towards the driver (`push`), which go into the receive buffers the driver made
// available; what the driver transmits collects in `output` (and goes to `onOutput`).
// Strict: a receive buffer that is device-readable or a transmit buffer that is
// device-writable is a violation (§5.3.6.1), and so is any config write it does not accept.

import type { DeviceChain } from "../chain.js";
import type { ConfigField, DeviceContext, DeviceModel } from "../device-model.js";

export const VIRTIO_ID_CONSOLE = 3;

/** §5.3.3 feature bits. */
export const CONSOLE_F_SIZE = 0;
export const CONSOLE_F_MULTIPORT = 1;
export const CONSOLE_F_EMERG_WRITE = 2;

export interface ConsoleDeviceOptions {
  /** Offer VIRTIO_CONSOLE_F_SIZE with these cols and rows. */
  readonly size?: { readonly cols: number; readonly rows: number };
  /** Offer MULTIPORT (max_nr_ports 1, with the two control queues): a driver may leave it. */
  readonly multiport?: boolean;
  /** Offer EMERG_WRITE (writes to emerg_wr land in `output`). */
  readonly emergWrite?: boolean;
  /** At most this many bytes per receive buffer (default: fill it). */
  readonly maxPerBuffer?: number;
  /** QueueNumMax (default 1024). */
  readonly queueMaxSize?: number;
}

const RECEIVEQ = 0;
const TRANSMITQ = 1;
const CONFIG_SIZE = 12;

const FIELDS: readonly ConfigField[] = [
  { name: "cols", offset: 0, width: 2 },
  { name: "rows", offset: 2, width: 2 },
  { name: "max_nr_ports", offset: 4, width: 4 },
  { name: "emerg_wr", offset: 8, width: 4, writable: true },
];

export class ConsoleDeviceModel implements DeviceModel {
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly name = "console";
  readonly features: bigint;
  readonly queueCount: number;
  readonly config = new Uint8Array(CONFIG_SIZE);
  readonly configFields = FIELDS;
  /** Called with each piece the driver transmits (and each emergency byte). */
  onOutput: ((bytes: Uint8Array) => void) | null = null;
  /** Bytes per receive buffer at most; change at run time (undefined = fill it). */
  maxPerBuffer: number | undefined;
  /** Receive / transmit buffers completed. */
  rxCompleted = 0;
  txCompleted = 0;
  readonly #options: ConsoleDeviceOptions;
  readonly #view: DataView;
  #ctx: DeviceContext | null = null;
  #output: number[] = [];
  /** Bytes pushed towards the driver, not yet delivered (kept across a reset). */
  #pending: number[] = [];
  /** Receive chains taken from the ring, waiting for bytes. */
  #rxChains: DeviceChain[] = [];

  constructor(options: ConsoleDeviceOptions = {}) {
    this.#options = options;
    this.maxPerBuffer = options.maxPerBuffer;
    let features = 0n;
    if (options.size) features |= 1n << BigInt(CONSOLE_F_SIZE);
    if (options.multiport) features |= 1n << BigInt(CONSOLE_F_MULTIPORT);
    if (options.emergWrite) features |= 1n << BigInt(CONSOLE_F_EMERG_WRITE);
    this.features = features;
    // §5.3.2: with MULTIPORT, queues 2 and 3 are the control receiveq / transmitq.
    this.queueCount = options.multiport ? 4 : 2;
    this.#view = new DataView(this.config.buffer);
    if (options.size) this.#writeSize(options.size.cols, options.size.rows);
    this.#view.setUint32(4, 1, true);
  }

  queueMaxSize(): number {
    return this.#options.queueMaxSize ?? 1024;
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
  }

  reset(): void {
    this.#rxChains = [];
  }

  /** Everything the driver transmitted so far. */
  get output(): Uint8Array {
    return Uint8Array.from(this.#output);
  }

  /** What the driver transmitted, as UTF-8 text. */
  get text(): string {
    return new TextDecoder().decode(this.output);
  }

  /** Returns the output and forgets it. */
  take(): Uint8Array {
    const out = this.output;
    this.#output = [];
    return out;
  }

  /** Bytes pushed and not yet delivered to the driver. */
  get pendingInput(): number {
    return this.#pending.length;
  }

  /** Receive buffers the device holds, waiting for input. */
  get rxBuffersHeld(): number {
    return this.#rxChains.length;
  }

  /** Sends bytes (or UTF-8 text) to the driver, into its receive buffers, asynchronously. */
  push(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (const b of bytes) this.#pending.push(b);
    this.#ctx?.later(() => this.#deliver());
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
    this.#emit(Uint8Array.of(value & 0xff));
    return true;
  }

  process(queue: number): void {
    const ctx = this.#ctx!;
    if (queue === RECEIVEQ) {
      for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
        if (chain.readable.length > 0) {
          ctx.violation("console-rx-readable", `receive buffer ${chain.head} holds ${chain.readable.length} device-readable descriptor(s) (§5.3.6.1)`);
        }
        this.#rxChains.push(chain);
      }
      this.#deliver();
    } else if (queue === TRANSMITQ) {
      for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
        if (chain.writable.length > 0) {
          ctx.violation("console-tx-writable", `transmit buffer ${chain.head} holds ${chain.writable.length} device-writable descriptor(s) (§5.3.6.1)`);
        }
        this.#emit(chain.read());
        ctx.complete(chain, 0);
        this.txCompleted++;
      }
    } else {
      // Control queues (MULTIPORT): a driver that negotiated it would talk here; ours never does.
      for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
        ctx.violation("console-control-queue", `buffer on control queue ${queue}, which this model does not serve`);
        ctx.complete(chain, 0);
      }
    }
  }

  /** Moves pending input into held receive buffers, oldest first. */
  #deliver(): void {
    const ctx = this.#ctx;
    if (ctx === null) return;
    while (this.#pending.length > 0 && this.#rxChains.length > 0) {
      const chain = this.#rxChains.shift()!;
      const room = Math.min(chain.writableLength, this.maxPerBuffer ?? Infinity);
      const piece = Uint8Array.from(this.#pending.slice(0, room));
      const written = chain.write(piece);
      this.#pending.splice(0, written);
      ctx.complete(chain, written);
      this.rxCompleted++;
    }
  }

  #emit(bytes: Uint8Array): void {
    for (const b of bytes) this.#output.push(b);
    this.onOutput?.(bytes);
  }

  #writeSize(cols: number, rows: number): void {
    this.#view.setUint16(0, cols, true);
    this.#view.setUint16(2, rows, true);
  }
}
