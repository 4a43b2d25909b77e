// virtio-mem (VIRTIO 1.2 §5.15), strict. The device-managed region lies in the host
// model's hotplug room (HostModel.hotplug); blocks are plugged and unplugged by the
// guest-request queue, `requested_size` is set by the test as QMP `qom-set ...
// requested-size` does, and the usable region grows to fit it.
//
// What it checks (violation rules): requests that are not 24 device-readable bytes with a
// 10-byte device-writable response, unknown request types, plugs or unplugs that are
// misaligned, empty, outside the usable region or of blocks already in that state, and a
// driver that wrote unplugged memory (the model fills unplugged blocks with a pattern, as a
// device may, and checks them at every request and at reset). Faults: BUSY, NACK or ERROR
// answers, a lying plugged_size, memory plugged before the driver came.

import type { DeviceChain } from "../chain.js";
import type { ConfigField, DeviceContext, DeviceModel } from "../device-model.js";

export const VIRTIO_ID_MEMORY = 24;

const F_UNPLUGGED_INACCESSIBLE = 1;
const REQ = { PLUG: 0, UNPLUG: 1, UNPLUG_ALL: 2, STATE: 3 } as const;
const RESP = { ACK: 0, NACK: 1, BUSY: 2, ERROR: 3 } as const;
const FILL = 0xc3;

const FIELDS: readonly ConfigField[] = [
  { name: "block_size", offset: 0, width: 8 },
  { name: "node_id", offset: 8, width: 2 },
  { name: "addr", offset: 16, width: 8 },
  { name: "region_size", offset: 24, width: 8 },
  { name: "usable_region_size", offset: 32, width: 8 },
  { name: "plugged_size", offset: 40, width: 8 },
  { name: "requested_size", offset: 48, width: 8 },
];

export interface MemDeviceOptions {
  /** Guest-physical start of the region (the host model's hotplug room). */
  readonly addr: number;
  readonly regionSize: number;
  /** Default 64 KiB (QEMU's default is 2 MiB; small blocks keep tests small). */
  readonly blockSize?: number;
  readonly requestedSize?: number;
  /** Blocks plugged before the driver comes (§5.15.5.1: it should unplug them all). */
  readonly pluggedAtStart?: number;
  /** Offer UNPLUGGED_INACCESSIBLE (default true, as QEMU on ARM). */
  readonly unpluggedInaccessible?: boolean;
}

export interface MemFaults {
  /** Answer this many requests with BUSY first. */
  busy: number;
  /** Answer every PLUG with NACK. */
  nackPlugs: boolean;
  /** Answer every request with ERROR. */
  error: boolean;
  /** Added to plugged_size after each ACK (a device that lies). */
  pluggedSizeSkew: number;
  /** Responses of this type instead of the true one (a device that answers nonsense); null: honest. */
  responseType: number | null;
}

export class MemDevice implements DeviceModel {
  readonly deviceId = VIRTIO_ID_MEMORY;
  readonly name = "mem";
  readonly features: bigint;
  readonly queueCount = 1;
  readonly config = new Uint8Array(56);
  readonly configFields = FIELDS;
  readonly faults: MemFaults = { busy: 0, nackPlugs: false, error: false, pluggedSizeSkew: 0, responseType: null };
  /** Per block: plugged or not. */
  readonly plugged: boolean[];
  readonly requests = { plug: 0, unplug: 0, unplugAll: 0, state: 0 };
  readonly #o: Required<MemDeviceOptions>;
  readonly #view = new DataView(this.config.buffer);
  #ctx: DeviceContext | null = null;

  constructor(options: MemDeviceOptions) {
    this.#o = { blockSize: 64 * 1024, requestedSize: 0, pluggedAtStart: 0, unpluggedInaccessible: true, ...options };
    const { blockSize: bs, addr, regionSize } = this.#o;
    if (addr % bs !== 0 || regionSize % bs !== 0) throw new RangeError("virtio-mem model: addr and region_size must be multiples of block_size");
    this.features = this.#o.unpluggedInaccessible ? 1n << BigInt(F_UNPLUGGED_INACCESSIBLE) : 0n;
    this.plugged = Array.from({ length: regionSize / bs }, (_, i) => i < this.#o.pluggedAtStart);
    this.#set(0, bs);
    this.#set(16, addr);
    this.#set(24, regionSize);
    this.#set(48, this.#o.requestedSize);
    this.#set(32, Math.max(this.#o.requestedSize, this.#o.pluggedAtStart * bs));
    this.#updatePlugged();
  }

  get blockSize(): number {
    return this.#o.blockSize;
  }
  get usableRegionSize(): number {
    return Number(this.#view.getBigUint64(32, true));
  }
  get pluggedSize(): number {
    return Number(this.#view.getBigUint64(40, true));
  }
  get requestedSize(): number {
    return Number(this.#view.getBigUint64(48, true));
  }

  /** Sets requested_size (QMP qom-set requested-size): the usable region grows to fit it. */
  setRequestedSize(bytes: number): void {
    if (bytes % this.#o.blockSize !== 0 || bytes < 0 || bytes > this.#o.regionSize) throw new RangeError(`requested_size ${bytes}`);
    this.#set(48, bytes);
    if (bytes > this.usableRegionSize) this.#set(32, bytes);
    this.#ctx?.configChanged();
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
    // Unplugged memory holds the model's pattern from the start (the device may do that).
    for (let i = 0; i < this.plugged.length; i++) if (!this.plugged[i]) this.#blockView(i)?.fill(FILL);
  }

  reset(): void {
    // §5.15.5.2: a device reset changes no block's state and no plugged memory.
    this.#checkUnplugged("at reset");
  }

  queueMaxSize(): number {
    return 128;
  }

  process(queue: number): void {
    const ctx = this.#ctx!;
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) this.#serve(chain);
  }

  #serve(chain: DeviceChain): void {
    const ctx = this.#ctx!;
    this.#checkUnplugged(`before request ${chain.head}`);
    if (chain.readableLength !== 24) ctx.violation("mem-request-size", `request ${chain.head} of ${chain.readableLength} device-readable bytes (§5.15.6: 24)`);
    if (chain.writableLength < 10) {
      ctx.violation("mem-response-size", `request ${chain.head} leaves ${chain.writableLength} bytes for the response (§5.15.6: 10)`);
      ctx.complete(chain, 0);
      return;
    }
    const req = chain.read();
    const v = new DataView(req.buffer, req.byteOffset, req.byteLength);
    const type = req.length >= 2 ? v.getUint16(0, true) : -1;
    const addr = req.length >= 16 ? Number(v.getBigUint64(8, true)) : 0;
    const nb = req.length >= 18 ? v.getUint16(16, true) : 0;
    let answer: number = RESP.ERROR;
    let state = 0;
    if (this.faults.busy > 0) {
      this.faults.busy--;
      answer = RESP.BUSY;
    } else if (this.faults.error) {
      answer = RESP.ERROR;
    } else if (type === REQ.PLUG || type === REQ.UNPLUG || type === REQ.STATE) {
      const range = this.#range(addr, nb, type);
      if (range === null) answer = RESP.ERROR;
      else if (type === REQ.STATE) {
        this.requests.state++;
        const p = this.plugged.slice(range[0], range[1]);
        state = p.every((x) => x) ? 0 : p.every((x) => !x) ? 1 : 2;
        answer = RESP.ACK;
      } else if (type === REQ.PLUG) {
        this.requests.plug++;
        answer = this.#plug(range);
      } else {
        this.requests.unplug++;
        answer = this.#unplug(range);
      }
    } else if (type === REQ.UNPLUG_ALL) {
      this.requests.unplugAll++;
      for (let i = 0; i < this.plugged.length; i++) {
        if (this.plugged[i]) this.#blockView(i)?.fill(FILL);
        this.plugged[i] = false;
      }
      this.#set(32, Math.max(this.requestedSize, 0));
      this.#updatePlugged();
      answer = RESP.ACK;
    } else {
      ctx.violation("mem-request-type", `request type ${type} is none of PLUG, UNPLUG, UNPLUG_ALL, STATE`);
    }
    const resp = new Uint8Array(10);
    const rv = new DataView(resp.buffer);
    rv.setUint16(0, this.faults.responseType ?? answer, true);
    rv.setUint16(8, state, true);
    ctx.complete(chain, chain.write(resp));
  }

  /** The blocks [first, end) of a request, or null (an ERROR answer) with the rule it breaks. */
  #range(addr: number, nb: number, type: number): [number, number] | null {
    const ctx = this.#ctx!;
    const bs = this.#o.blockSize;
    const name = ["PLUG", "UNPLUG", "UNPLUG_ALL", "STATE"][type];
    const rel = addr - this.#o.addr;
    if (rel % bs !== 0 || rel < 0) return this.#bad(`${name} at 0x${addr.toString(16)} is not a block of the region`), null;
    if (nb === 0) return this.#bad(`${name} of 0 blocks`), null;
    const first = rel / bs;
    if ((first + nb) * bs > this.usableRegionSize) return this.#bad(`${name} of ${nb} block(s) at 0x${addr.toString(16)} leaves the usable region`), null;
    void ctx;
    return [first, first + nb];
  }

  #bad(message: string): void {
    this.#ctx!.violation("mem-bad-request", `${message} (§5.15.6: answered ERROR)`);
  }

  #plug([first, end]: [number, number]): number {
    if (this.faults.nackPlugs || this.pluggedSize >= this.requestedSize) return RESP.NACK;
    for (let i = first; i < end; i++) {
      if (this.plugged[i]) return this.#bad(`PLUG of block ${i}, already plugged`), RESP.ERROR;
    }
    for (let i = first; i < end; i++) {
      this.plugged[i] = true;
      this.#blockView(i)?.fill(0x9d); // undefined content: the driver should initialize it
    }
    this.#updatePlugged();
    return RESP.ACK;
  }

  #unplug([first, end]: [number, number]): number {
    for (let i = first; i < end; i++) {
      if (!this.plugged[i]) return this.#bad(`UNPLUG of block ${i}, not plugged`), RESP.ERROR;
    }
    for (let i = first; i < end; i++) {
      this.plugged[i] = false;
      this.#blockView(i)?.fill(FILL);
    }
    this.#updatePlugged();
    return RESP.ACK;
  }

  #checkUnplugged(when: string): void {
    const ctx = this.#ctx;
    if (ctx === null) return;
    for (let i = 0; i < this.plugged.length; i++) {
      if (this.plugged[i]) continue;
      const view = this.#blockView(i);
      if (view && !view.every((b) => b === FILL)) {
        ctx.violation("mem-unplugged-written", `unplugged block ${i} (0x${(this.#o.addr + i * this.#o.blockSize).toString(16)}) was written ${when} (§5.15.6.1)`);
        view.fill(FILL);
      }
    }
  }

  #blockView(i: number): Uint8Array | null {
    const ctx = this.#ctx;
    const bs = this.#o.blockSize;
    const at = this.#o.addr + i * bs;
    return ctx && ctx.memory.contains(at, bs) ? ctx.memory.view(at, bs) : null;
  }

  #updatePlugged(): void {
    const n = this.plugged.filter((x) => x).length;
    this.#set(40, n * this.#o.blockSize + this.faults.pluggedSizeSkew);
  }

  #set(offset: number, value: number): void {
    this.#view.setBigUint64(offset, BigInt(value), true);
  }
}
