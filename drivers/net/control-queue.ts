// The virtio-net control queue (VIRTIO 1.2 §5.1.6.5, VIRTIO_NET_F_CTRL_VQ): one command at
// a time, each `{u8 class; u8 command; data; u8 ack}` in one DMA block (the ack byte
// device-writable), answered VIRTIO_NET_OK (0) or VIRTIO_NET_ERR. Every ack is checked:
// a used length without the ack byte, or an ack other than OK, rejects the command with
// NetControlError. At most `maxPending` commands wait; the block is freed only when the
// device has returned it (or was reset).

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { drainQueue } from "../virtio/drain.js";
import { NetControlError } from "./errors.js";
import { NET_FEATURE_NAMES, NetFeature } from "./net-spec.js";

/** §5.1.6.5: classes and commands. */
export const Ctrl = {
  RX: 0,
  RX_PROMISC: 0,
  RX_ALLMULTI: 1,
  MAC: 1,
  MAC_TABLE_SET: 0,
  MAC_ADDR_SET: 1,
  ANNOUNCE: 3,
  ANNOUNCE_ACK: 0,
  MQ: 4,
  MQ_VQ_PAIRS_SET: 0,
} as const;

const VIRTIO_NET_OK = 0;
const BLOCK = 512;
/** MAC filter entries a table can hold in one block: (512 - 2 - 8 - 1) / 6. */
export const MAX_FILTER_MACS = 83;

interface Command {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

interface InFlight {
  readonly command: Command;
  readonly dma: DmaBuffer;
  readonly length: number;
}

export class NetControl {
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #queue: Virtqueue<InFlight>;
  readonly #waiting: Command[] = [];
  readonly #maxPending: number;
  #current: InFlight | null = null;
  #closed = false;
  readonly stats = { commands: 0, errors: 0 };

  constructor(device: VirtioDevice, index: number, maxPending = 8) {
    this.#device = device;
    this.#platform = device.platform;
    this.#maxPending = maxPending;
    this.#queue = device.createQueue<InFlight>(index, { size: 4, minSize: 2, minSizeFor: "descriptors of one command (command, ack)", onUsed: () => this.#onUsed() });
  }

  setPromiscuous(on: boolean): Promise<void> {
    return this.#send("promiscuous", Ctrl.RX, Ctrl.RX_PROMISC, new Uint8Array([on ? 1 : 0]));
  }

  setAllMulticast(on: boolean): Promise<void> {
    return this.#send("all-multicast", Ctrl.RX, Ctrl.RX_ALLMULTI, new Uint8Array([on ? 1 : 0]));
  }

  /** §5.1.6.5.2: the unicast and multicast filter tables (le32 count, then the MACs). */
  setMacFilter(unicast: readonly Uint8Array[], multicast: readonly Uint8Array[]): Promise<void> {
    if (unicast.length + multicast.length > MAX_FILTER_MACS) return Promise.reject(new RangeError(`MAC filter of ${unicast.length + multicast.length} entries: at most ${MAX_FILTER_MACS}`));
    const data = new Uint8Array(8 + 6 * (unicast.length + multicast.length));
    let at = 0;
    for (const table of [unicast, multicast]) {
      new DataView(data.buffer).setUint32(at, table.length, true);
      at += 4;
      for (const mac of table) {
        if (mac.length !== 6) return Promise.reject(new RangeError("a MAC address is 6 bytes"));
        data.set(mac, at);
        at += 6;
      }
    }
    return this.#send("MAC filter", Ctrl.MAC, Ctrl.MAC_TABLE_SET, data);
  }

  setMac(mac: Uint8Array): Promise<void> {
    if (mac.length !== 6) return Promise.reject(new RangeError("a MAC address is 6 bytes"));
    return this.#send("MAC address", Ctrl.MAC, Ctrl.MAC_ADDR_SET, mac.slice());
  }

  /** §5.1.6.5.4: the announcement (gratuitous ARP) was sent. */
  announceAck(): Promise<void> {
    return this.#send("announce ack", Ctrl.ANNOUNCE, Ctrl.ANNOUNCE_ACK, new Uint8Array(0));
  }

  /** §5.1.6.5.5: queue pairs in use (le16). */
  setQueuePairs(pairs: number): Promise<void> {
    const data = new Uint8Array(2);
    new DataView(data.buffer).setUint16(0, pairs, true);
    return this.#send("queue pairs", Ctrl.MQ, Ctrl.MQ_VQ_PAIRS_SET, data);
  }

  /** The device was reset or unbound: what waits is rejected; the block of the command in
   * flight is taken back (the reset returned it) and freed. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#queue.detachAll()) this.#platform.dma.free(t.dma);
    const all = [...(this.#current === null ? [] : [this.#current.command]), ...this.#waiting];
    this.#current = null;
    this.#waiting.length = 0;
    for (const c of all) c.reject(new NetControlError(this.#device.location, c.name, reason));
  }

  #send(name: string, klass: number, command: number, data: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new NetControlError(this.#device.location, name, "control queue closed"));
    // §5.1.6.5: each class needs its feature
    const feature = klass === Ctrl.RX || (klass === Ctrl.MAC && command === Ctrl.MAC_TABLE_SET) ? NetFeature.CTRL_RX
      : klass === Ctrl.MAC ? NetFeature.CTRL_MAC_ADDR : klass === Ctrl.ANNOUNCE ? NetFeature.GUEST_ANNOUNCE : NetFeature.MQ;
    if (!this.#device.hasFeature(feature)) return Promise.reject(new NetControlError(this.#device.location, name, `feature ${NET_FEATURE_NAMES[feature]} not negotiated`));
    if (this.#waiting.length >= this.#maxPending) return Promise.reject(new NetControlError(this.#device.location, name, `${this.#waiting.length} commands already waiting`));
    return new Promise<void>((resolve, reject) => {
      const bytes = new Uint8Array(2 + data.length);
      bytes[0] = klass;
      bytes[1] = command;
      bytes.set(data, 2);
      this.#waiting.push({ name, bytes, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    if (this.#current !== null || this.#closed) return;
    const command = this.#waiting.shift();
    if (command === undefined) return;
    const dma = this.#platform.dma.alloc(BLOCK, 16);
    const length = command.bytes.length;
    dma.bytes.set(command.bytes, 0);
    dma.bytes[length] = 0xff; // not OK until the device says so
    const flight: InFlight = { command, dma, length };
    this.#current = flight;
    try {
      this.#queue.add([{ phys: dma.phys, len: length }], [{ phys: dma.phys + length, len: 1 }], flight);
      this.#queue.kick();
      this.stats.commands++;
    } catch (error) {
      this.#current = null;
      this.#platform.dma.free(dma);
      command.reject(error instanceof Error ? error : new Error(String(error)));
      this.#next();
    }
  }

  #onUsed(): void {
    drainQueue(this.#queue, ({ token, len }) => {
      const ack = token.dma.bytes[token.length]!;
      this.#platform.dma.free(token.dma);
      if (this.#current === token) this.#current = null;
      // §5.1.6.5: the device writes the ack byte; without it (len 0) nothing was confirmed
      if (len < 1 || ack !== VIRTIO_NET_OK) {
        this.stats.errors++;
        token.command.reject(new NetControlError(this.#device.location, token.command.name, len < 1 ? "no ack written" : `ack ${ack}`));
      } else token.command.resolve();
    });
    this.#next();
  }
}
