// Fuzz target: virtio-blk. Reads, writes (plain bytes or the caller's DMA memory),
// flush, GET_ID, discard and write zeroes of random ranges (some past the end), while
// the disk answers bad status bytes, bad used lengths, bad sectors, hangs, resizes and
// garbage in its configuration. Oracles: a read that resolved while no write to its
// sectors was in flight returns the device's bytes; a write that resolved is on the
// disk; caller buffers never change after their call settled (nor write data ever).

import { BlkDevice } from "../../../platform/host/devices/blk-device.js";
import type { DmaBuffer } from "../../../platform/platform.js";
import { BlkDriver } from "../../../drivers/blk/blk-driver.js";
import type { BlockDevice } from "../../../drivers/blk/block-device.js";
import { DeviceBrokenError } from "../../../drivers/virtio/errors.js";
import type { Args, Rand } from "../random.js";
import type { Driven, Target } from "../target.js";
import { describeError, type World } from "../world.js";

const SECTOR = 512;

interface Mutation {
  readonly lba: number;
  readonly count: number;
  readonly issued: number;
  /** When its promise settled; Infinity if it failed (a failed write may still land). */
  settled: number;
}

class BlkDriven implements Driven {
  readonly #w: World;
  readonly #disk: BlkDevice;
  readonly #driver: BlkDriver;
  readonly #capacity: number;
  readonly #config: Uint8Array;
  readonly #mutations: Mutation[] = [];
  readonly #dmaBuffers: DmaBuffer[] = [];
  #clock = 0;
  #seq = 0;

  constructor(w: World, disk: BlkDevice, driver: BlkDriver) {
    this.#w = w;
    this.#disk = disk;
    this.#driver = driver;
    this.#capacity = disk.capacity;
    this.#config = disk.config.slice();
  }

  /** The handle last seen (it survives re-initializations; after an unbind it says why). */
  #handle: BlockDevice | undefined;

  get #blk(): BlockDevice | undefined {
    const now = this.#driver.devices()[0];
    if (now) this.#handle = now;
    return now;
  }

  run(action: string, a: Args): void {
    const blk = this.#blk;
    const disk = this.#disk;
    switch (action) {
      case "read": return blk && this.#read(blk, a);
      case "write": return blk && this.#write(blk, a);
      case "flush": return blk && this.#simple("flush()", () => blk.flush());
      case "id": return blk && this.#simple("id()", () => blk.id());
      case "discard": return blk && this.#ranged(blk, a, "discard", (l, c) => blk.discard(l, c));
      case "write-zeroes": return blk && this.#ranged(blk, a, "writeZeroes", (l, c) => blk.writeZeroes(l, c, { unmap: a.chance(50) }));
      case "lie-status": disk.faults.status = a.pick([null, null, 1, 2, 0x7f, 0xff]); return;
      case "lie-bad-sector":
        if (a.chance(30)) disk.faults.badSectors.clear();
        else disk.faults.badSectors.add(a.int(0, Math.min(48, disk.capacity) - 1));
        return;
      case "lie-used-length": disk.faults.usedLength = a.pick([null, null, 0, 1, 100, 512, 513]); return;
      case "hang": disk.faults.hang = !disk.faults.hang; return;
      case "resize": {
        const t = this.#clock++;
        this.#mutations.push({ lba: 0, count: Infinity, issued: t, settled: t });
        disk.resize(Math.max(1, this.#capacity + a.pick([-32, -1, 0, 1, 64])));
        return;
      }
      case "junk-config":
        // The driver works to the seg_max and size_max it read at set-up (§5.2.5: only the
        // capacity moves at run time); the model checks against what the config holds now.
        this.#w.excused.add("blk-too-many-segments").add("blk-segment-too-large");
        disk.setConfig32(a.pick([0, 4, 8, 12, 20, 36, 40, 48, 52]), a.pick([0, 1, 0xffff_ffff, a.int(0, 0xffff_ffff)]));
        if (a.chance(70)) this.#w.dev.configChanged();
        return;
    }
  }

  /** A range: mostly in the first 48 sectors (where the bad sectors are), some past the end. */
  #range(a: Args): [number, number] {
    const cap = this.#disk.capacity;
    const count = a.pick([1, 1, 2, 3, 8, 16, 17, 40]);
    const lba = a.chance(8) ? cap - a.int(0, 2) : a.int(0, Math.max(0, Math.min(cap, a.chance(60) ? 48 : cap) - count));
    return [lba, count];
  }

  /** A caller DMA buffer (while the pool has room), else null. */
  #callerDma(bytes: number): DmaBuffer | null {
    if (this.#w.watch.allocatedBytes > 1 << 20) return null;
    try {
      const b = this.#w.platform.dma.alloc(bytes, 64);
      this.#dmaBuffers.push(b);
      return b;
    } catch {
      return null;
    }
  }

  #read(blk: BlockDevice, a: Args): void {
    const [lba, count] = this.#range(a);
    const kind = a.int(0, 2);
    const what = `read(${lba}, ${count}${kind === 0 ? "" : kind === 1 ? ", bytes" : ", dma"})`;
    const issued = this.#clock++;
    let into: Uint8Array | DmaBuffer | undefined;
    let caller: Uint8Array | null = null;
    if (kind === 1) into = caller = new Uint8Array(count * SECTOR + a.pick([0, 0, 512, 7])).fill(0xee);
    else if (kind === 2) {
      const dma = this.#callerDma(count * SECTOR);
      if (dma) {
        dma.bytes.fill(0xee);
        into = dma;
        caller = dma.bytes;
      }
    }
    let p: Promise<Uint8Array>;
    try {
      p = blk.read(lba, count, into);
    } catch (e) {
      return void this.#w.call(what, () => { throw e; });
    }
    this.#w.track(what, p, (data) => {
      const settled = this.#clock++;
      if (caller) this.#w.watch.protect(what, caller);
      else this.#w.watch.protect(what, data);
      if (data.length !== count * SECTOR) return this.#w.report("data-mismatch", `${what} resolved with ${data.length} bytes`);
      if (!this.#clean(lba, count, issued, settled)) return;
      const image = this.#disk.image;
      if ((lba + count) * SECTOR > image.length) return;
      if (Buffer.compare(data, image.subarray(lba * SECTOR, (lba + count) * SECTOR)) !== 0) {
        this.#w.report("data-mismatch", `${what} resolved with bytes that differ from the device's`);
      }
    }, () => {
      this.#clock++;
      if (caller) this.#w.watch.protect(`${what} (rejected)`, caller);
    });
  }

  #write(blk: BlockDevice, a: Args): void {
    const [lba, count] = this.#range(a);
    const useDma = a.chance(30);
    const what = `write(${lba}, ${count}${useDma ? ", dma" : ""})`;
    const seq = ++this.#seq;
    const dma = useDma ? this.#callerDma(count * SECTOR) : null;
    const data = dma ? dma.bytes.subarray(0, count * SECTOR) : new Uint8Array(count * SECTOR);
    for (let i = 0; i < data.length; i++) data[i] = (seq * 131 + i * 7 + (i >> 9)) & 0xff;
    this.#w.watch.protect(`${what} data`, data);
    const m: Mutation = { lba, count, issued: this.#clock++, settled: Infinity };
    this.#mutations.push(m);
    let p: Promise<void>;
    try {
      p = blk.write(lba, dma ?? data);
    } catch (e) {
      return void this.#w.call(what, () => { throw e; });
    }
    this.#w.track(what, p, () => {
      m.settled = this.#clock++;
      if (!this.#clean(lba, count, m.issued, m.settled, m)) return;
      const image = this.#disk.image;
      if ((lba + count) * SECTOR > image.length) return;
      if (Buffer.compare(data, image.subarray(lba * SECTOR, (lba + count) * SECTOR)) !== 0) {
        this.#w.report("data-mismatch", `${what} resolved but the device holds other bytes`);
      }
    });
  }

  #ranged(blk: BlockDevice, a: Args, name: string, call: (lba: number, count: number) => Promise<void>): void {
    const [lba, count] = this.#range(a);
    const m: Mutation = { lba, count, issued: this.#clock++, settled: Infinity };
    this.#mutations.push(m);
    this.#simple(`${name}(${lba}, ${count})`, () => call(lba, count));
  }

  #simple(what: string, call: () => Promise<unknown>): void {
    let p: Promise<unknown>;
    try {
      p = call();
    } catch (e) {
      return void this.#w.call(what, () => { throw e; });
    }
    this.#w.track(what, p);
  }

  /** No other mutation of these sectors overlapped [issued, settled] in time. */
  #clean(lba: number, count: number, issued: number, settled: number, self?: Mutation): boolean {
    for (const m of this.#mutations) {
      if (m === self) continue;
      if (m.lba >= lba + count || lba >= m.lba + m.count) continue;
      if (m.issued < settled && m.settled > issued) return false;
    }
    return true;
  }

  heal(): void {
    const f = this.#disk.faults;
    f.status = null;
    f.badSectors.clear();
    f.usedLength = null;
    f.hang = false;
    f.failFlushes = 0;
    this.#disk.config.set(this.#config);
    this.#disk.resize(this.#disk.capacity); // the capacity field back to the image, and a config change
  }

  async probe(): Promise<void> {
    const w = this.#w;
    const blk = this.#blk;
    const vd = w.bus.device(w.dev.slot);
    if (!vd) return w.report("no-recovery", "the bus lost the device");
    if ((blk ?? this.#handle)?.broken instanceof DeviceBrokenError) return; // given up on, by its own rule
    if (!blk || !blk.ready || blk.broken) {
      w.track("device.restart() (probe)", vd.restart());
      await w.run(60_000, () => w.pending.size === 0);
    }
    const now = this.#blk;
    if (!now) return w.report("no-recovery", `no BlockDevice after a restart of a behaving device (${vd.error ? describeError(vd.error) : vd.step})`);
    let outcome = "pending";
    const what = "read(0, 1) (probe)";
    const image = this.#disk.image.slice(0, SECTOR);
    w.track(what, now.read(0, 1), (data) => {
      outcome = Buffer.compare(data, image) === 0 ? "ok" : "data";
    }, (e) => {
      outcome = e instanceof DeviceBrokenError ? "ok" : describeError(e);
    });
    await w.run(60_000, () => outcome !== "pending");
    if (outcome === "data") w.report("data-mismatch", `${what}: bytes differ from the device's`);
    else if (outcome !== "ok") w.report("no-recovery", `${what} after the device behaved again: ${outcome}`);
  }

  check(): void {}

  heldDmaBytes(): number {
    return this.#dmaBuffers.reduce((n, b) => n + b.size, 0);
  }

  release(): void {
    this.#w.watch.dropProtected();
    for (const b of this.#dmaBuffers) this.#w.platform.dma.free(b);
    this.#dmaBuffers.length = 0;
  }
}

export const blkTarget: Target = {
  kind: "blk",
  actions: [
    ["read", 10], ["write", 7], ["flush", 2], ["id", 1], ["discard", 1], ["write-zeroes", 1],
    ["lie-status", 2], ["lie-bad-sector", 2], ["lie-used-length", 1], ["hang", 1], ["resize", 1], ["junk-config", 1],
  ],
  async setup(w: World, version: 1 | 2, r: Rand): Promise<Driven> {
    const capacity = r.pick([64, 128, 256]);
    const image = new Uint8Array(capacity * SECTOR);
    for (let i = 0; i < image.length; i++) image[i] = (i * 13 + (i >> 9) * 5 + 1) & 0xff;
    const disk = new BlkDevice({
      image,
      delayTurns: r.pick([0, 0, 1, 3]),
      outOfOrder: r.chance(0.4),
      queueMaxSize: r.pick([16, 64, 256]),
      segMax: r.pick([254, 254, 8, 3]),
      sizeMax: r.pick([undefined, undefined, 4096, 1024]),
      flush: r.chance(0.85),
      discard: r.chance(0.6),
      writeZeroes: r.chance(0.6),
      readOnly: r.chance(0.08),
    });
    w.attach(disk, version, { indirect: r.chance(0.6), eventIdx: r.chance(0.6), processing: r.pick(["sync", "async"] as const) });
    const driver = new BlkDriver({
      timeoutMs: r.pick([50, 200, 1000, 10_000]),
      maxRestarts: r.pick([0, 1, 3, 100]),
      maxInFlight: r.pick([1, 4, 32]),
      maxRequestBytes: r.pick([512, 2048, 65536]),
      maxBounceBytes: r.pick([4096, 1 << 20]),
      queueSize: r.pick([8, 16, 128]),
    });
    await w.bus.register(driver);
    return new BlkDriven(w, disk, driver);
  },
};
