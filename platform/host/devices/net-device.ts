// virtio-net (VIRTIO 1.2 §5.1) as a device model: receiveq (0) and transmitq (1), or with
// `queuePairs` (MQ) receiveqN at 2(N-1) and transmitqN at 2(N-1)+1, the control queue
// (net-control-model.ts) at 2, or 2 * max_virtqueue_pairs with MQ negotiated; MAC and
// STATUS in the config space, and a network endpoint behind it. Frames the
// driver transmits go to a peer function, back to the driver (loopback), or into
// `transmitted` for a test to look at; frames for the driver are handed in with
// `deliver()` and wait (a bounded backlog) until the driver posts receive buffers.
//
// Strict: every rule of §5.1.6 the driver can break is a violation: device-writable
// buffers on transmitq or readable ones on receiveq, a header with flags or GSO that
// were not negotiated, a frame shorter than an Ethernet header or longer than 1514
// bytes, receive buffers smaller than the spec asks for (§5.1.6.3.1), a frame on a
// transmit queue beyond the pairs enabled (§5.1.6.5.5, `net-mq-tx-queue`). With several
// pairs enabled a received frame goes to the receive queue of its flow (symmetric hash of
// addresses and ports), so a flow's replies come back on the pair it was sent on.

import type { DeviceChain } from "../chain.js";
import type { ConfigField, DeviceContext, DeviceModel } from "../device-model.js";
import { NET_F_CTRL_MAC_ADDR, NET_F_CTRL_RX, NET_F_GUEST_ANNOUNCE, NET_F_MQ, NET_S_ANNOUNCE, NetControlModel } from "./net-control-model.js";

export { NET_F_CTRL_MAC_ADDR, NET_F_CTRL_RX, NET_F_GUEST_ANNOUNCE, NET_F_MQ } from "./net-control-model.js";

export const VIRTIO_ID_NET = 1;
export const NET_F_MTU = 3;
export const NET_F_MAC = 5;
export const NET_F_MRG_RXBUF = 15;
export const NET_F_STATUS = 16;
export const NET_F_CTRL_VQ = 17;
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
  /** Offer VIRTIO_NET_F_MQ with this max_virtqueue_pairs (implies offerCtrl). */
  readonly queuePairs?: number;
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
  readonly config = new Uint8Array(12);
  /** max_virtqueue_pairs (1 without MQ). */
  readonly maxPairs: number;
  readonly #control: NetControlModel;
  readonly configFields = CONFIG_FIELDS;
  /** Frames the driver sent, when there is no peer and no loopback. */
  readonly transmitted: Uint8Array[] = [];
  readonly counters = { rxFrames: 0, rxDropped: 0, txFrames: 0, rxShortBuffers: 0, rxBuffersUsed: 0 };
  /** Frames received on each receive queue pair / sent on each transmit queue pair. */
  readonly rxPerPair: number[];
  readonly txPerPair: number[];
  /** Test hook (a hostile device): the num_buffers of the next merged frame. */
  nextNumBuffers: number | null = null;
  /** Per receive queue: frames waiting for buffers, and (MRG_RXBUF) chains taken while
   * gathering room for a merged frame. */
  readonly #rxq: { readonly backlog: Uint8Array[]; readonly stash: DeviceChain[] }[];
  /** Test hook (a hostile device): the used length of the next received frame. */
  nextRxLength: number | null = null;
  peer: ((frame: Uint8Array, model: VirtioNetModel) => void) | null;
  readonly #options: NetModelOptions;
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
    const mq = options.queuePairs !== undefined;
    if ((options.offerCtrl ?? false) || mq) {
      for (const f of [NET_F_CTRL_VQ, NET_F_CTRL_RX, NET_F_GUEST_ANNOUNCE, NET_F_CTRL_MAC_ADDR]) features |= 1n << BigInt(f);
    }
    if (mq) features |= 1n << BigInt(NET_F_MQ);
    this.maxPairs = options.queuePairs ?? 1;
    this.queueCount = mq ? 2 * this.maxPairs + 1 : (options.offerCtrl ?? false) ? 3 : 2;
    this.features = features;
    this.#control = new NetControlModel(this);
    this.#rxq = Array.from({ length: this.maxPairs }, () => ({ backlog: [], stash: [] }));
    this.rxPerPair = new Array<number>(this.maxPairs).fill(0);
    this.txPerPair = new Array<number>(this.maxPairs).fill(0);
    this.config.set(options.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], 0);
    this.#setStatus(options.linkUp ?? true);
    this.config[8] = this.maxPairs & 0xff; // max_virtqueue_pairs (meaningful with MQ only)
    this.config[9] = this.maxPairs >>> 8;
    this.config[10] = (options.mtu ?? 1500) & 0xff;
    this.config[11] = (options.mtu ?? 1500) >>> 8;
  }

  /** What the control queue set (§5.1.6.5). */
  get rxMode(): { promiscuous: boolean; allMulticast: boolean } {
    return this.#control.rxMode;
  }

  get macFilter(): { unicast: Uint8Array[]; multicast: Uint8Array[] } {
    return this.#control.macFilter;
  }

  /** Each control command, in order. */
  get controlLog(): string[] {
    return this.#control.log;
  }

  /** Test hook (a hostile device): the ack byte of the next control command. */
  get nextCtrlAck(): number | null {
    return this.#control.nextAck;
  }

  set nextCtrlAck(ack: number | null) {
    this.#control.nextAck = ack;
  }

  /** Queue pairs the driver enabled (VQ_PAIRS_SET, §5.1.6.5.5); 1 after a reset. */
  get queuePairs(): number {
    return this.#control.pairs;
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
    return this.#rxq.reduce((n, q) => n + q.backlog.length, 0);
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
    for (const q of this.#rxq) {
      q.backlog.length = 0;
      q.stash.length = 0;
    }
    this.#control.reset();
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
    const pair = this.#steer(frame);
    const q = this.#rxq[pair]!;
    if (q.backlog.length >= (this.#options.backlog ?? 256)) {
      this.counters.rxDropped++;
      return;
    }
    q.backlog.push(frame.slice());
    this.#pumpRx(pair);
  }

  process(queue: number): void {
    if (queue === this.#controlQueue) this.#control.serve(this.#ctx!, queue);
    else if (queue % 2 === 0) this.#pumpRx(queue / 2);
    else this.#transmit(queue);
  }

  /** §5.1.2: 2 * max_virtqueue_pairs with MQ negotiated, else 2. */
  get #controlQueue(): number {
    return (this.#features & (1n << BigInt(NET_F_MQ))) !== 0n ? 2 * this.maxPairs : 2;
  }

  /** §5.1.6.5.5: receiveq1 until VQ_PAIRS_SET, then the queue of the frame's flow. */
  #steer(frame: Uint8Array): number {
    const pairs = this.#control.pairs;
    return pairs === 1 ? 0 : symmetricFlowHash(frame) % pairs;
  }

  /** As after a migration (QMP announce-self): status ANNOUNCE set, a config change. */
  announce(): void {
    this.config[6] = this.config[6]! | NET_S_ANNOUNCE;
    this.#ctx?.configChanged();
  }

  #setStatus(up: boolean): void {
    this.config[6] = up ? NET_S_LINK_UP : 0;
    this.config[7] = 0;
  }

  /** Fills the receive buffers of receiveq `pair`+1 with its waiting frames (§5.1.6.4). */
  #pumpRx(pair: number): void {
    const ctx = this.#ctx;
    const q = this.#rxq[pair];
    if (ctx === null || q === undefined) return;
    if (this.mergeable) {
      this.#pumpMerged(ctx, pair);
      return;
    }
    const backlog = q.backlog;
    while (backlog.length > 0) {
      const chain = ctx.takeChain(2 * pair);
      if (chain === null) return;
      const hlen = this.headerLength;
      if (chain.readable.length > 0) {
        ctx.violation("net-rx-readable", `receive buffer ${chain.head} holds device-readable descriptors (§5.1.6.3)`);
      }
      if (chain.writableLength < hlen + this.maxFrame) {
        this.counters.rxShortBuffers++;
        ctx.violation("net-rx-buffer-small", `receive buffer ${chain.head} of ${chain.writableLength} bytes; at least ${hlen + ETH_MAX} without MRG_RXBUF (§5.1.6.3.1)`);
      }
      const frame = backlog.shift()!;
      const data = new Uint8Array(hlen + frame.length);
      if (hlen === 12) data[10] = 1; // num_buffers = 1 (§5.1.6.4)
      data.set(frame, hlen);
      const written = chain.write(data);
      const length = this.nextRxLength ?? written;
      this.nextRxLength = null;
      this.counters.rxFrames++;
      this.rxPerPair[pair]!++;
      ctx.complete(chain, length);
    }
  }

  /** §5.1.6.4 with MRG_RXBUF: a frame takes as many buffers as it needs; the first holds
   * the header with num_buffers, the others continue the data. */
  #pumpMerged(ctx: DeviceContext, pair: number): void {
    const { backlog, stash } = this.#rxq[pair]!;
    while (backlog.length > 0) {
      const frame = backlog[0]!;
      const need = 12 + frame.length;
      let room = stash.reduce((n, c) => n + c.writableLength, 0);
      while (room < need) {
        const chain = ctx.takeChain(2 * pair);
        if (chain === null) return; // wait for more buffers (kept meanwhile)
        if (chain.readable.length > 0) ctx.violation("net-rx-readable", `receive buffer ${chain.head} holds device-readable descriptors (§5.1.6.3)`);
        stash.push(chain);
        room += chain.writableLength;
      }
      backlog.shift();
      const chains = stash.splice(0, stash.length);
      // the buffers this frame fills; any left over serve the next frame
      let used = 0;
      let cover = 0;
      while (cover < need) cover += chains[used++]!.writableLength;
      stash.push(...chains.slice(used));
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
      this.rxPerPair[pair]!++;
    }
  }

  /** Takes every transmitted frame of transmit queue `queue` (§5.1.6.2), checks it,
   * returns the chain, passes the frame on. */
  #transmit(queue: number): void {
    const ctx = this.#ctx!;
    const pair = (queue - 1) / 2;
    const frames: Uint8Array[] = [];
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      if (pair >= this.#control.pairs) {
        ctx.violation("net-mq-tx-queue", `frame on transmitq${pair + 1} with ${this.#control.pairs} queue pair(s) enabled (§5.1.6.5.5: transmitq1 only before VQ_PAIRS_SET)`);
      }
      const frame = this.#checkTx(ctx, chain);
      ctx.complete(chain, 0);
      if (frame !== null) frames.push(frame);
    }
    for (const frame of frames) {
      this.counters.txFrames++;
      this.txPerPair[pair]!++;
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

/** A hash of a frame's IPv4 flow that is the same both ways (addresses and TCP/UDP ports
 * each combined order-free); 0 for anything else. */
function symmetricFlowHash(frame: Uint8Array): number {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return 0;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let h = (v.getUint32(26) ^ v.getUint32(30)) >>> 0;
  const ports = 14 + (frame[14]! & 0x0f) * 4;
  const fragmented = (v.getUint16(20) & 0x3fff) !== 0;
  if ((frame[23] === 6 || frame[23] === 17) && !fragmented && frame.length >= ports + 4) h ^= v.getUint16(ports) ^ v.getUint16(ports + 2);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}
