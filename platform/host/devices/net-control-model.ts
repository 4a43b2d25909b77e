// The control queue of the virtio-net model (VIRTIO 1.2 §5.1.6.5): each chain is
// {u8 class; u8 command; data} device-readable, then a 1-byte ack device-writable. It
// records what the commands set (receive modes, MAC filter, MAC address, announce ack,
// queue pairs) and logs each one; a command whose feature was not negotiated, or with
// a malformed body, is answered VIRTIO_NET_ERR. Strict about MQ (§5.1.6.5.5): a
// virtqueue_pairs of 0 or above max_virtqueue_pairs is the violation `net-mq-pairs`.

import type { DeviceContext } from "../device-model.js";

export const NET_F_CTRL_RX = 18;
export const NET_F_GUEST_ANNOUNCE = 21;
export const NET_F_MQ = 22;
export const NET_F_CTRL_MAC_ADDR = 23;
export const NET_S_ANNOUNCE = 2;

/** What the control model needs of the device. */
export interface ControlHost {
  /** The config space (the MAC at 0, status at 6). */
  readonly config: Uint8Array;
  /** max_virtqueue_pairs (1 without MQ). */
  readonly maxPairs: number;
}

export class NetControlModel {
  readonly rxMode = { promiscuous: false, allMulticast: false };
  macFilter: { unicast: Uint8Array[]; multicast: Uint8Array[] } = { unicast: [], multicast: [] };
  readonly log: string[] = [];
  /** Test hook (a hostile device): the ack byte of the next command. */
  nextAck: number | null = null;
  /** Queue pairs the driver enabled (VQ_PAIRS_SET); 1 after a reset (§5.1.6.5.5). */
  pairs = 1;
  readonly #host: ControlHost;

  constructor(host: ControlHost) {
    this.#host = host;
  }

  reset(): void {
    this.pairs = 1;
  }

  /** Serves every chain waiting on the control queue `queue`. */
  serve(ctx: DeviceContext, queue: number): void {
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      const cmd = chain.read();
      if (chain.writableLength < 1 || cmd.length < 2) {
        ctx.violation("net-ctrl-layout", `control chain ${chain.head}: ${cmd.length} readable bytes, ${chain.writableLength} writable (a command and a 1-byte ack)`);
        ctx.complete(chain, 0);
        continue;
      }
      const ok = this.#apply(ctx, cmd[0]!, cmd[1]!, cmd.subarray(2));
      const ack = this.nextAck ?? (ok ? 0 : 1);
      this.nextAck = null;
      chain.write(new Uint8Array([ack]));
      ctx.complete(chain, 1);
    }
  }

  #apply(ctx: DeviceContext, klass: number, command: number, data: Uint8Array): boolean {
    const has = (f: number): boolean => (ctx.driverFeatures & (1n << BigInt(f))) !== 0n;
    const config = this.#host.config;
    if (klass === 0 && (command === 0 || command === 1) && data.length === 1 && has(NET_F_CTRL_RX)) {
      if (command === 0) this.rxMode.promiscuous = data[0] !== 0;
      else this.rxMode.allMulticast = data[0] !== 0;
      this.log.push(`${command === 0 ? "promisc" : "allmulti"} ${data[0]}`);
      return true;
    }
    if (klass === 1 && command === 1 && data.length === 6 && has(NET_F_CTRL_MAC_ADDR)) {
      config.set(data, 0);
      this.log.push("mac set");
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
      this.log.push(`mac table ${uc}+${mc}`);
      return true;
    }
    if (klass === 3 && command === 0 && has(NET_F_GUEST_ANNOUNCE)) {
      config[6] = config[6]! & ~NET_S_ANNOUNCE;
      this.log.push("announce ack");
      return true;
    }
    if (klass === 4 && command === 0 && data.length === 2 && has(NET_F_MQ)) {
      const pairs = data[0]! | (data[1]! << 8); // le16 (§5.1.6.5.5; the guest's order on legacy: little-endian here)
      if (pairs < 1 || pairs > this.#host.maxPairs) {
        ctx.violation("net-mq-pairs", `VQ_PAIRS_SET ${pairs}: must be 1 to max_virtqueue_pairs ${this.#host.maxPairs} (§5.1.6.5.5)`);
        this.log.push(`refused mq pairs ${pairs}`);
        return false;
      }
      this.pairs = pairs;
      this.log.push(`mq pairs ${pairs}`);
      return true;
    }
    this.log.push(`refused ${klass}/${command}`);
    return false;
  }
}
