// virtio-input (VIRTIO 1.2 §5.8) as a host-side device: the config select space (name,
// serial, devids, prop bits, event bits per type, abs info per axis) answered live from
// what the driver wrote to select/subsel, and event injection: `inject()` queues one
// update (a sequence of events, then EV_SYN) that goes out when the driver has enough
// event buffers for all of it (§5.8.6.2: a sequence is buffered whole, never split).
// Status events (LEDs) the driver sends are collected in `statusEvents`.
// Strict: writes to any config field but select/subsel, event buffers that are not
// device-writable or shorter than 8 bytes, status buffers without 8 device-readable bytes are
// violations (§5.8.5.1, §5.8.6.1).

import type { DeviceChain } from "../chain.js";
import type { ConfigField, DeviceContext, DeviceModel } from "../device-model.js";

export const VIRTIO_ID_INPUT = 18;

export interface InputModelEvent {
  readonly type: number;
  readonly code: number;
  readonly value: number;
}

export interface InputModelAbs {
  readonly min: number;
  readonly max: number;
  readonly fuzz?: number;
  readonly flat?: number;
  readonly res?: number;
}

export interface InputDeviceModelOptions {
  readonly name?: string;
  readonly serial?: string;
  /** bustype, vendor, product, version; omitted: ID_DEVIDS answers size 0. */
  readonly ids?: { readonly bustype: number; readonly vendor: number; readonly product: number; readonly version: number };
  readonly props?: readonly number[];
  /** Event type -> supported codes (EV_BITS). */
  readonly bits?: Readonly<Record<number, readonly number[]>>;
  /** Absolute axis -> range (ABS_INFO). */
  readonly abs?: Readonly<Record<number, InputModelAbs>>;
  /** Updates kept while the driver has no buffers; older ones are dropped (default 64). */
  readonly maxPendingUpdates?: number;
  /** QueueNumMax (default 64, as QEMU's virtio-input). */
  readonly queueMaxSize?: number;
}

const SEL = { UNSET: 0, ID_NAME: 1, ID_SERIAL: 2, ID_DEVIDS: 3, PROP_BITS: 0x10, EV_BITS: 0x11, ABS_INFO: 0x12 } as const;
const EV_SYN = 0;
const EV_KEY = 1;
const EV_ABS = 3;
const EV_LED = 0x11;
const EV_REP = 0x14;
const EVENT_SIZE = 8;
const U = 8;
const CONFIG_SIZE = U + 128;

/** A keyboard like QEMU's virtio-keyboard: keys 1-127, LEDs, autorepeat. */
export function keyboardModelOptions(): InputDeviceModelOptions {
  const keys: number[] = [];
  for (let k = 1; k < 128; k++) keys.push(k);
  return {
    name: "virtio-xs model keyboard",
    serial: "kbd-0001",
    ids: { bustype: 6, vendor: 0x0627, product: 0x0001, version: 1 },
    bits: { [EV_KEY]: keys, [EV_LED]: [0, 1, 2], [EV_REP]: [] },
  };
}

/** A tablet: BTN_LEFT/RIGHT and two absolute axes 0..32767. */
export function tabletModelOptions(): InputDeviceModelOptions {
  return {
    name: "virtio-xs model tablet",
    serial: "tab-0001",
    ids: { bustype: 6, vendor: 0x0627, product: 0x0003, version: 1 },
    bits: { [EV_KEY]: [0x110, 0x111], [EV_ABS]: [0, 1] },
    abs: { 0: { min: 0, max: 32767 }, 1: { min: 0, max: 32767 } },
  };
}

function field(name: string, offset: number, width: 1 | 2 | 4, writable = false): ConfigField {
  return { name, offset, width, writable };
}

const HEADER: readonly ConfigField[] = [
  field("select", 0, 1, true),
  field("subsel", 1, 1, true),
  field("size", 2, 1),
  ...[3, 4, 5, 6, 7].map((o) => field(`reserved[${o - 3}]`, o, 1)),
];
const BYTES = [...HEADER, ...Array.from({ length: 128 }, (_, i) => field(`u[${i}]`, U + i, 1))];
const ABSINFO = [...HEADER, ...["min", "max", "fuzz", "flat", "res"].map((n, i) => field(`u.abs.${n}`, U + i * 4, 4))];
const DEVIDS = [...HEADER, ...["bustype", "vendor", "product", "version"].map((n, i) => field(`u.ids.${n}`, U + i * 2, 2))];

export class InputDeviceModel implements DeviceModel {
  readonly deviceId = VIRTIO_ID_INPUT;
  readonly name = "input";
  readonly features = 0n;
  readonly queueCount = 2;
  readonly config = new Uint8Array(CONFIG_SIZE);
  /** Status events the driver sent (LED changes), in order. */
  readonly statusEvents: InputModelEvent[] = [];
  /** Events written to the driver, and updates dropped for want of buffers. */
  eventsSent = 0;
  updatesDropped = 0;
  /** Test switch: the next event buffers come back with this used length (undefined = 8). */
  shortEventLength: number | undefined;
  /** Used length reported for status buffers: 0 as the spec has it (nothing written);
   * QEMU 7.2 reports 8, the bytes it read. */
  statusUsedLength = 0;
  /** Test switch: the next config answer claims this size (undefined = the real one). */
  sizeOverride: number | undefined;
  /** How many buffers the eventq holds (its QueueNum), where the test tells the model: an
   * update with more events than that can never be sent and is dropped (counted in
   * updatesDropped), as a device that behaves does (QEMU drops an update it has no room
   * for). Null, or 0 returned: every update is held until it fits. */
  eventqSize: (() => number) | null = null;
  readonly #options: InputDeviceModelOptions;
  #ctx: DeviceContext | null = null;
  #select = 0;
  #subsel = 0;
  #buffers: DeviceChain[] = [];
  #pending: InputModelEvent[][] = [];

  constructor(options: InputDeviceModelOptions = keyboardModelOptions()) {
    this.#options = options;
  }

  queueMaxSize(): number {
    return this.#options.queueMaxSize ?? 64;
  }

  /** The config layout of what is selected now: the union's shape depends on select. */
  get configFields(): readonly ConfigField[] {
    if (this.#select === SEL.ABS_INFO) return ABSINFO;
    if (this.#select === SEL.ID_DEVIDS) return DEVIDS;
    return BYTES;
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
  }

  reset(): void {
    this.#buffers = [];
    this.#pending = [];
    this.#select = 0;
    this.#subsel = 0;
    this.#answer();
  }

  /** Event buffers the device holds. */
  get buffersHeld(): number {
    return this.#buffers.length;
  }

  /** Updates waiting for buffers. */
  get pendingUpdates(): number {
    return this.#pending.length;
  }

  /** Queues one update: `events` then EV_SYN/SYN_REPORT, sent asynchronously. */
  inject(events: readonly InputModelEvent[], syn = true): void {
    const update = syn ? [...events, { type: EV_SYN, code: 0, value: 0 }] : [...events];
    this.#pending.push(update);
    const max = this.#options.maxPendingUpdates ?? 64;
    while (this.#pending.length > max) {
      this.#pending.shift();
      this.updatesDropped++;
    }
    this.#ctx?.later(() => this.#deliver());
  }

  /** A key press (down) or release, as one update. */
  key(code: number, down: boolean): void {
    this.inject([{ type: EV_KEY, code, value: down ? 1 : 0 }]);
  }

  writeConfig(offset: number, width: number, value: number): boolean {
    if (width !== 1 || offset > 1) return false; // §5.8.5.1: only select and subsel
    if (offset === 0) this.#select = value & 0xff;
    else this.#subsel = value & 0xff;
    this.#answer();
    return true;
  }

  process(queue: number): void {
    const ctx = this.#ctx!;
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      if (queue === 0) this.#takeEventBuffer(ctx, chain);
      else this.#takeStatus(ctx, chain);
    }
    if (queue === 0) this.#deliver();
  }

  #takeEventBuffer(ctx: DeviceContext, chain: DeviceChain): void {
    if (chain.readable.length > 0 || chain.writableLength < EVENT_SIZE) {
      ctx.violation("input-event-buffer", `event buffer ${chain.head}: ${chain.readable.length} readable descriptor(s), ${chain.writableLength} writable bytes; must be device-writable and at least 8 bytes (§5.8.6.1)`);
      ctx.complete(chain, 0);
      return;
    }
    this.#buffers.push(chain);
  }

  #takeStatus(ctx: DeviceContext, chain: DeviceChain): void {
    // A writable tail is allowed (the spec only asks for 8 readable bytes); the device never
    // writes it, but with `statusUsedLength` it reports a used length into it, as QEMU does.
    if (chain.readableLength < EVENT_SIZE) {
      ctx.violation("input-status-buffer", `status buffer ${chain.head}: ${chain.readableLength} readable bytes; must hold a device-readable 8-byte event (§5.8.6.1)`);
    } else {
      const bytes = chain.read();
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.statusEvents.push({ type: view.getUint16(0, true), code: view.getUint16(2, true), value: view.getInt32(4, true) });
    }
    ctx.complete(chain, this.statusUsedLength);
  }

  /** Sends whole updates while there are buffers for all of their events. */
  #deliver(): void {
    const ctx = this.#ctx;
    if (ctx === null) return;
    const size = this.eventqSize?.() ?? 0;
    while (this.#pending.length > 0) {
      const update = this.#pending[0]!;
      if (size > 0 && update.length > size) {
        this.#pending.shift(); // can never fit the eventq: dropped
        this.updatesDropped++;
        continue;
      }
      if (this.#buffers.length < update.length) break;
      this.#pending.shift();
      for (const event of update) {
        const chain = this.#buffers.shift()!;
        const bytes = new Uint8Array(EVENT_SIZE);
        const view = new DataView(bytes.buffer);
        view.setUint16(0, event.type, true);
        view.setUint16(2, event.code, true);
        view.setInt32(4, event.value, true);
        chain.write(bytes);
        ctx.complete(chain, this.shortEventLength ?? EVENT_SIZE);
        this.eventsSent++;
      }
    }
  }

  /** Fills size and the union for the current select/subsel (§5.8.5). */
  #answer(): void {
    const u = this.config.subarray(U);
    u.fill(0);
    const data = this.#lookup();
    u.set(data.subarray(0, 128));
    this.config[2] = this.sizeOverride ?? data.length;
  }

  #lookup(): Uint8Array {
    const o = this.#options;
    switch (this.#select) {
      case SEL.ID_NAME:
        return this.#subsel === 0 && o.name ? new TextEncoder().encode(o.name).subarray(0, 128) : new Uint8Array(0);
      case SEL.ID_SERIAL:
        return this.#subsel === 0 && o.serial ? new TextEncoder().encode(o.serial).subarray(0, 128) : new Uint8Array(0);
      case SEL.ID_DEVIDS: {
        if (this.#subsel !== 0 || !o.ids) return new Uint8Array(0);
        const b = new Uint8Array(8);
        const v = new DataView(b.buffer);
        [o.ids.bustype, o.ids.vendor, o.ids.product, o.ids.version].forEach((x, i) => v.setUint16(i * 2, x, true));
        return b;
      }
      case SEL.PROP_BITS:
        return this.#subsel === 0 ? bitmap(o.props ?? []) : new Uint8Array(0);
      case SEL.EV_BITS: {
        const codes = o.bits?.[this.#subsel];
        if (codes === undefined) return new Uint8Array(0);
        // A supported type with no codes (EV_REP) still answers one byte, as QEMU does.
        return codes.length === 0 ? new Uint8Array(1) : bitmap(codes);
      }
      case SEL.ABS_INFO: {
        const a = o.abs?.[this.#subsel];
        if (a === undefined) return new Uint8Array(0);
        const b = new Uint8Array(20);
        const v = new DataView(b.buffer);
        [a.min, a.max, a.fuzz ?? 0, a.flat ?? 0, a.res ?? 0].forEach((x, i) => v.setInt32(i * 4, x, true));
        return b;
      }
      default:
        return new Uint8Array(0);
    }
  }
}

/** The smallest bitmap (bit n of byte n>>3) holding `codes`. */
function bitmap(codes: readonly number[]): Uint8Array {
  if (codes.length === 0) return new Uint8Array(0);
  const b = new Uint8Array(Math.min(128, (Math.max(...codes) >> 3) + 1));
  for (const c of codes) if (c >> 3 < b.length) b[c >> 3]! |= 1 << (c & 7);
  return b;
}
