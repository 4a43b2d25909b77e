// virtio-net (VIRTIO 1.2 §5.1) as a device model: one receiveq (0) and one transmitq (1),
// MAC and STATUS in the config space, and a network endpoint behind it. Frames the
// driver transmits go to a peer function, back to the driver (loopback), or into
// `transmitted` for a test to look at; frames for the driver are handed in with
// `deliver()` and wait (a bounded backlog) until the driver posts receive buffers.
//
// Strict: every rule of §5.1.6 the driver can break is a violation: device-writable
// buffers on transmitq or readable ones on receiveq, a header with flags or GSO that
// were not negotiated, a frame shorter than an Ethernet header or longer than 1514
// bytes, receive buffers smaller than the spec asks for (§5.1.6.3.1).

import type { DeviceChain } from "../chain.js";
import type { ConfigField, DeviceContext, DeviceModel } from "../device-model.js";

export const VIRTIO_ID_NET = 1;
export const NET_F_MTU = 3;
export const NET_F_MAC = 5;
export const NET_F_MRG_RXBUF = 15;
export const NET_F_STATUS = 16;
export const NET_F_CTRL_VQ = 17;
export const NET_F_CTRL_RX = 18;
export const NET_F_GUEST_ANNOUNCE = 21;
export const NET_F_CTRL_MAC_ADDR = 23;
const NET_S_ANNOUNCE = 2;
const F_VERSION_1 = 32;
const NET_S_LINK_UP = 1;
const ETH_HLEN = 14;
const ETH_MAX = 1514;

export interface NetModelOptions {
  /** Default 52:54:00:12:34:56 (QEMU's first NIC). */
  readonly mac?: Uint8Array;
  /** Offer VIRTIO_NET_F_MAC. Default true. */
  readonly offerMac?: boolean;
  /** Offer VIRTIO_NET_F_STATUS. Default true. */
  readonly offerStatus?: boolean;
  /** Link state at start (config status LINK_UP). Default true. */
  readonly linkUp?: boolean;
  /** Frames transmitted by the driver come back to it. */
  readonly loopback?: boolean;
  /** Receives every frame the driver transmits (a test's scripted peer). */
  readonly peer?: (frame: Uint8Array, model: VirtioNetModel) => void;
  /** Frames held for the driver while it has no receive buffer. Default 256. */
  readonly backlog?: number;
  /** QueueNumMax of both queues. Default 256 (QEMU's virtio-net default). */
  readonly queueMaxSize?: number;
  /** Offer VIRTIO_NET_F_MRG_RXBUF: frames spread over as many receive buffers as they
   * need, num_buffers in the first header (§5.1.6.4). Default false. */
  readonly offerMrgRxbuf?: boolean;
  /** Offer VIRTIO_NET_F_MTU with this config mtu (§5.1.4). */
  readonly mtu?: number;
  /** Offer the control queue (queue 2) with CTRL_RX, CTRL_MAC_ADDR, GUEST_ANNOUNCE. Default false. */
  readonly offerCtrl?: boolean;
}

const CONFIG_FIELDS: readonly ConfigField[] = [
  ...[0, 1, 2, 3, 4, 5].map((i) => ({ name: `mac[${i}]`, offset: i, width: 1 as const })),
  { name: "status", offset: 6, width: 2 },
  { name: "max_virtqueue_pairs", offset: 8, width: 2 },
  { name: "mtu", offset: 10, width: 2 },
];

export class VirtioNetModel implements DeviceModel {
  readonly deviceId = VIRTIO_ID_NET;
  readonly name = "net";
  readonly features: bigint;
  readonly queueCount: number;
  /** What the control queue set (§5.1.6.5). */
  readonly rxMode = { promiscuous: false, allMulticast: false };
  macFilter: { unicast: Uint8Array[]; multicast: Uint8Array[] } = { unicast: [], multicast: [] };
  readonly controlLog: string[] = [];
  /** Test hook (a hostile device): the ack byte of the next control command. */
  nextCtrlAck: number | null = null;
  readonly config = new Uint8Array(12);
  readonly configFields = CONFIG_FIELDS;
  /** Frames the driver sent, when there is no peer and no loopback. */
  readonly transmitted: Uint8Array[] = [];
  readonly counters = { rxFrames: 0, rxDropped: 0, txFrames: 0, rxShortBuffers: 0, rxBuffersUsed: 0 };
  /** Test hook (a hostile device): the num_buffers of the next merged frame. */
  nextNumBuffers: number | null = null;
  /** Receive chains taken while gathering room for a merged frame. */
  readonly #rxStash: DeviceChain[] = [];
  /** Test hook (a hostile device): the used length of the next received frame. */
  nextRxLength: number | null = null;
  peer: ((frame: Uint8Array, model: VirtioNetModel) => void) | null;
  readonly #options: NetModelOptions;
  readonly #backlog: Uint8Array[] = [];
  #ctx: DeviceContext | null = null;
  #features = 0n;

  constructor(options: NetModelOptions = {}) {
    this.#options = options;
    this.peer = options.peer ?? null;
    let features = 0n;
    if (options.offerMac ?? true) features |= 1n << BigInt(NET_F_MAC);
    if (options.offerStatus ?? true) features |= 1n << BigInt(NET_F_STATUS);
    if (options.offerMrgRxbuf ?? false) features |= 1n << BigInt(NET_F_MRG_RXBUF);
    if (options.mtu !== undefined) features |= 1n << BigInt(NET_F_MTU);
    if (options.offerCtrl ?? false) {
      for (const f of [NET_F_CTRL_VQ, NET_F_CTRL_RX, NET_F_GUEST_ANNOUNCE, NET_F_CTRL_MAC_ADDR]) features |= 1n << BigInt(f);
    }
    this.queueCount = (options.offerCtrl ?? false) ? 3 : 2;
    this.features = features;
    this.config.set(options.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], 0);
    this.#setStatus(options.linkUp ?? true);
    this.config[8] = 1; // max_virtqueue_pairs (meaningful with MQ only)
    this.config[10] = (options.mtu ?? 1500) & 0xff;
    this.config[11] = (options.mtu ?? 1500) >>> 8;
  }

  get mergeable(): boolean {
    return (this.#features & (1n << BigInt(NET_F_MRG_RXBUF))) !== 0n;
  }

  /** Largest frame the device sends or takes: 14 + mtu with MTU negotiated, else 1514. */
  get maxFrame(): number {
    return (this.#features & (1n << BigInt(NET_F_MTU))) !== 0n ? ETH_HLEN + (this.#options.mtu ?? 1500) : ETH_MAX;
  }

  /** Header size the driver must use (§5.1.6): 12 with VERSION_1 or MRG_RXBUF, else 10. */
  get headerLength(): number {
    const f = this.#features;
    return f & (1n << BigInt(F_VERSION_1)) || f & (1n << BigInt(NET_F_MRG_RXBUF)) ? 12 : 10;
  }

  get linkUp(): boolean {
    return (this.config[6]! & NET_S_LINK_UP) !== 0;
  }

  get mac(): Uint8Array {
    return this.config.slice(0, 6);
  }

  /** Frames waiting for receive buffers. */
  get backlog(): number {
    return this.#backlog.length;
  }

  queueMaxSize(): number {
    return this.#options.queueMaxSize ?? 256;
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
  }

  featuresAccepted(features: bigint): void {
    this.#features = features;
  }

  reset(): void {
    this.#backlog.length = 0;
    this.#rxStash.length = 0;
    this.#features = 0n;
  }

  /** Sets the link state; a config change interrupt follows when STATUS is offered (QMP set_link). */
  setLink(up: boolean): void {
    if (up === this.linkUp) return;
    this.#setStatus(up);
    if (this.features & (1n << BigInt(NET_F_STATUS))) this.#ctx?.configChanged();
  }

  /** A frame from the network for the driver (Ethernet header first, no FCS). */
  deliver(frame: Uint8Array): void {
    if (!this.linkUp) {
      this.counters.rxDropped++;
      return;
    }
    if (this.#backlog.length >= (this.#options.backlog ?? 256)) {
      this.counters.rxDropped++;
      return;
    }
    this.#backlog.push(frame.slice());
    this.#pumpRx();
  }

  process(queue: number): void {
    if (queue === 0) this.#pumpRx();
    else if (queue === 2) this.#control();
    else this.#transmit();
  }

  /** As after a migration (QMP announce-self): status ANNOUNCE set, a config change. */
  announce(): void {
    this.config[6] = this.config[6]! | NET_S_ANNOUNCE;
    this.#ctx?.configChanged();
  }

  /** §5.1.6.5: {class, command, data} readable, then the 1-byte ack writable. */
  #control(): void {
    const ctx = this.#ctx!;
    for (let chain = ctx.takeChain(2); chain; chain = ctx.takeChain(2)) {
      const cmd = chain.read();
      if (chain.writableLength < 1 || cmd.length < 2) {
        ctx.violation("net-ctrl-layout", `control chain ${chain.head}: ${cmd.length} readable bytes, ${chain.writableLength} writable (a command and a 1-byte ack)`);
        ctx.complete(chain, 0);
        continue;
      }
      const ok = this.#apply(cmd[0]!, cmd[1]!, cmd.subarray(2));
      const ack = this.nextCtrlAck ?? (ok ? 0 : 1);
      this.nextCtrlAck = null;
      chain.write(new Uint8Array([ack]));
      ctx.complete(chain, 1);
    }
  }

  #apply(klass: number, command: number, data: Uint8Array): boolean {
    const has = (f: number): boolean => (this.#features & (1n << BigInt(f))) !== 0n;
    if (klass === 0 && (command === 0 || command === 1) && data.length === 1 && has(NET_F_CTRL_RX)) {
      if (command === 0) this.rxMode.promiscuous = data[0] !== 0;
      else this.rxMode.allMulticast = data[0] !== 0;
      this.controlLog.push(`${command === 0 ? "promisc" : "allmulti"} ${data[0]}`);
      return true;
    }
    if (klass === 1 && command === 1 && data.length === 6 && has(NET_F_CTRL_MAC_ADDR)) {
      this.config.set(data, 0);
      this.controlLog.push("mac set");
      return true;
    }
    if (klass === 1 && command === 0 && has(NET_F_CTRL_RX)) {
      const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (data.length < 8) return false;
      const uc = v.getUint32(0, true);
      if (4 + uc * 6 + 4 > data.length) return false;
      const mc = v.getUint32(4 + uc * 6, true);
      if (8 + (uc + mc) * 6 !== data.length) return false;
      const macs = (at: number, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => data.slice(at + i * 6, at + i * 6 + 6));
      this.macFilter = { unicast: macs(4, uc), multicast: macs(8 + uc * 6, mc) };
      this.controlLog.push(`mac table ${uc}+${mc}`);
      return true;
    }
    if (klass === 3 && command === 0 && has(NET_F_GUEST_ANNOUNCE)) {
      this.config[6] = this.config[6]! & ~NET_S_ANNOUNCE;
      this.controlLog.push("announce ack");
      return true;
    }
    this.controlLog.push(`refused ${klass}/${command}`);
    return false;
  }

  #setStatus(up: boolean): void {
    this.config[6] = up ? NET_S_LINK_UP : 0;
    this.config[7] = 0;
  }

  /** Fills receive buffers with waiting frames (§5.1.6.4). */
  #pumpRx(): void {
    const ctx = this.#ctx;
    if (ctx === null) return;
    if (this.mergeable) {
      this.#pumpMerged(ctx);
      return;
    }
    while (this.#backlog.length > 0) {
      const chain = ctx.takeChain(0);
      if (chain === null) return;
      const hlen = this.headerLength;
      if (chain.readable.length > 0) {
        ctx.violation("net-rx-readable", `receive buffer ${chain.head} holds device-readable descriptors (§5.1.6.3)`);
      }
      if (chain.writableLength < hlen + this.maxFrame) {
        this.counters.rxShortBuffers++;
        ctx.violation("net-rx-buffer-small", `receive buffer ${chain.head} of ${chain.writableLength} bytes; at least ${hlen + ETH_MAX} without MRG_RXBUF (§5.1.6.3.1)`);
      }
      const frame = this.#backlog.shift()!;
      const data = new Uint8Array(hlen + frame.length);
      if (hlen === 12) data[10] = 1; // num_buffers = 1 (§5.1.6.4)
      data.set(frame, hlen);
      const written = chain.write(data);
      const length = this.nextRxLength ?? written;
      this.nextRxLength = null;
      this.counters.rxFrames++;
      ctx.complete(chain, length);
    }
  }

  /** §5.1.6.4 with MRG_RXBUF: a frame takes as many buffers as it needs; the first holds
   * the header with num_buffers, the others continue the data. */
  #pumpMerged(ctx: DeviceContext): void {
    while (this.#backlog.length > 0) {
      const frame = this.#backlog[0]!;
      const need = 12 + frame.length;
      let room = this.#rxStash.reduce((n, c) => n + c.writableLength, 0);
      while (room < need) {
        const chain = ctx.takeChain(0);
        if (chain === null) return; // wait for more buffers (kept meanwhile)
        if (chain.readable.length > 0) ctx.violation("net-rx-readable", `receive buffer ${chain.head} holds device-readable descriptors (§5.1.6.3)`);
        this.#rxStash.push(chain);
        room += chain.writableLength;
      }
      this.#backlog.shift();
      const chains = this.#rxStash.splice(0, this.#rxStash.length);
      // the buffers this frame fills; any left over serve the next frame
      let used = 0;
      let cover = 0;
      while (cover < need) cover += chains[used++]!.writableLength;
      this.#rxStash.push(...chains.slice(used));
      const data = new Uint8Array(need);
      const n = this.nextNumBuffers ?? used;
      this.nextNumBuffers = null;
      data[10] = n & 0xff; // num_buffers (le16)
      data[11] = n >>> 8;
      data.set(frame, 12);
      let at = 0;
      for (let i = 0; i < used; i++) {
        const chain = chains[i]!;
        const piece = data.subarray(at, Math.min(need, at + chain.writableLength));
        const written = chain.write(piece);
        at += written;
        const length = i === 0 && this.nextRxLength !== null ? this.nextRxLength : written;
        if (i === 0) this.nextRxLength = null;
        this.counters.rxBuffersUsed++;
        ctx.complete(chain, length);
      }
      this.counters.rxFrames++;
    }
  }

  /** Takes every transmitted frame (§5.1.6.2), checks it, returns the chain, passes the frame on. */
  #transmit(): void {
    const ctx = this.#ctx!;
    const frames: Uint8Array[] = [];
    for (let chain = ctx.takeChain(1); chain; chain = ctx.takeChain(1)) {
      const frame = this.#checkTx(ctx, chain);
      ctx.complete(chain, 0);
      if (frame !== null) frames.push(frame);
    }
    for (const frame of frames) {
      this.counters.txFrames++;
      if (this.#options.loopback) ctx.later(() => this.deliver(frame));
      else if (this.peer !== null) {
        const peer = this.peer;
        ctx.later(() => peer(frame, this));
      } else this.transmitted.push(frame);
    }
  }

  #checkTx(ctx: DeviceContext, chain: DeviceChain): Uint8Array | null {
    const hlen = this.headerLength;
    if (chain.writable.length > 0) {
      ctx.violation("net-tx-writable", `transmit chain ${chain.head} holds device-writable descriptors (§5.1.6.2)`);
    }
    const bytes = chain.read();
    if (bytes.length < hlen + ETH_HLEN || bytes.length > hlen + this.maxFrame) {
      ctx.violation("net-tx-size", `transmit chain ${chain.head} of ${bytes.length} bytes: header ${hlen} + a frame of 14 to 1514 bytes (§5.1.6.2)`);
      return null;
    }
    // No CSUM, no GSO negotiated: flags, gso_type and the rest must be 0 (§5.1.6.2.1).
    const header = bytes.subarray(0, hlen);
    if (header.some((b) => b !== 0)) {
      ctx.violation("net-tx-header", `transmit header ${[...header].map((b) => b.toString(16).padStart(2, "0")).join("")}: flags/gso/num_buffers must be 0 without offloads (§5.1.6.2.1)`);
    }
    return bytes.slice(hlen);
  }
}
