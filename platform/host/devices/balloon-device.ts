// virtio-balloon (VIRTIO 1.2 §5.5), strict. Queues as QEMU numbers them: inflateq 0,
// deflateq 1, statsq 2 (always there, as in QEMU), reporting_vq 3 when PAGE_REPORTING is
// offered. Config: num_pages (set by the test, as QMP `balloon` does), actual and
// poison_val (written by the driver), free_page_hint_cmd_id.
//
// What it checks (violation rules): page-frame arrays that are not whole 32-bit PFNs or that
// come with device-writable buffers, PFNs outside RAM, a page inflated twice or deflated
// without being in the balloon, a page the driver wrote while it was in the balloon (the
// model fills each inflated page with a pattern, as a host may, and checks it at deflation),
// `actual` above the pages inflated, statsq buffers of the wrong size or shape, two
// buffers in the statsq, a change of the supplied statistics, poison_val written late or
// not at all, reported pages that are in the balloon or do not hold poison_val.

import type { DeviceChain } from "../chain.js";
import type { ConfigField, DeviceContext, DeviceModel } from "../device-model.js";

export const VIRTIO_ID_BALLOON = 5;

const F_MUST_TELL_HOST = 0;
const F_STATS_VQ = 1;
const F_DEFLATE_ON_OOM = 2;
const F_PAGE_POISON = 4;
const F_PAGE_REPORTING = 5;
const PAGE = 4096;
const STAT_BYTES = 10;

const FIELDS: readonly ConfigField[] = [
  { name: "num_pages", offset: 0, width: 4 },
  { name: "actual", offset: 4, width: 4, writable: true },
  { name: "free_page_hint_cmd_id", offset: 8, width: 4 },
  { name: "poison_val", offset: 12, width: 4, writable: true },
];

export interface BalloonDeviceOptions {
  /** Offer STATS_VQ (default true, as QEMU). */
  readonly statsVq?: boolean;
  /** Offer DEFLATE_ON_OOM (default false, as QEMU's `deflate-on-oom`). */
  readonly deflateOnOom?: boolean;
  /** Offer PAGE_POISON (default true, as QEMU). */
  readonly pagePoison?: boolean;
  /** Offer PAGE_REPORTING (default false, as QEMU's `free-page-reporting`). */
  readonly pageReporting?: boolean;
  /** Offer MUST_TELL_HOST (default false). */
  readonly mustTellHost?: boolean;
  /** QueueNumMax (default 128, as QEMU). */
  readonly queueMaxSize?: number;
}

/** A statistic as the device last received it. */
export interface BalloonStatEntry {
  readonly tag: number;
  readonly value: bigint;
}

export class BalloonDevice implements DeviceModel {
  readonly deviceId = VIRTIO_ID_BALLOON;
  readonly name = "balloon";
  readonly features: bigint;
  readonly queueCount: number;
  readonly config = new Uint8Array(16);
  readonly configFields = FIELDS;
  /** Frames (physical address / 4096) in the balloon now. */
  readonly inflated = new Set<number>();
  /** Every statistics buffer received, oldest first (the first one of a boot included). */
  readonly statsReceived: BalloonStatEntry[][] = [];
  /** Pages named in reports. */
  reportedPages = 0;
  inflateRequests = 0;
  deflateRequests = 0;
  /** Fault: inflate requests are held (not used) until `releaseInflates()`. */
  holdInflates = false;
  readonly #options: BalloonDeviceOptions;
  readonly #view = new DataView(this.config.buffer);
  #ctx: DeviceContext | null = null;
  #statsHeld: DeviceChain | null = null;
  #statsTags: string | null = null;
  #heldInflates: DeviceChain[] = [];
  #poisonWritten = false;
  #driverOk = false;

  constructor(options: BalloonDeviceOptions = {}) {
    this.#options = options;
    let f = 0n;
    if (options.statsVq ?? true) f |= 1n << BigInt(F_STATS_VQ);
    if (options.deflateOnOom) f |= 1n << BigInt(F_DEFLATE_ON_OOM);
    if (options.pagePoison ?? true) f |= 1n << BigInt(F_PAGE_POISON);
    if (options.pageReporting) f |= 1n << BigInt(F_PAGE_REPORTING);
    if (options.mustTellHost) f |= 1n << BigInt(F_MUST_TELL_HOST);
    this.features = f;
    this.queueCount = options.pageReporting ? 4 : 3;
  }

  /** num_pages. */
  get target(): number {
    return this.#view.getUint32(0, true);
  }

  /** What the driver last wrote to `actual`. */
  get actual(): number {
    return this.#view.getUint32(4, true);
  }

  get poisonValue(): number {
    return this.#view.getUint32(12, true);
  }

  /** Sets num_pages and signals a configuration change (QMP `balloon`). */
  setTarget(pages: number): void {
    if (!Number.isInteger(pages) || pages < 0 || pages > 0xffff_ffff) throw new RangeError(`bad balloon target ${pages}`);
    this.#view.setUint32(0, pages, true);
    this.#ctx?.configChanged();
  }

  /** Asks the driver for fresh statistics by using the buffer it left in the statsq. */
  requestStats(): boolean {
    const held = this.#statsHeld;
    if (held === null || this.#ctx === null) return false;
    this.#statsHeld = null;
    this.#ctx.complete(held, 0);
    return true;
  }

  /** The statistics of the newest buffer as tag -> value. */
  latestStats(): Map<number, bigint> {
    const last = this.statsReceived[this.statsReceived.length - 1] ?? [];
    return new Map(last.map((e) => [e.tag, e.value]));
  }

  /** Uses the inflate requests held by `holdInflates`. */
  releaseInflates(): void {
    const held = this.#heldInflates;
    this.#heldInflates = [];
    for (const chain of held) this.#ctx?.complete(chain, 0);
  }

  queueMaxSize(): number {
    return this.#options.queueMaxSize ?? 128;
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
  }

  reset(): void {
    // §2.4: the device forgets every buffer; the pages the old driver named are its again.
    this.inflated.clear();
    this.#statsHeld = null;
    this.#statsTags = null;
    this.#heldInflates = [];
    this.#poisonWritten = false;
    this.#driverOk = false;
    this.#view.setUint32(4, 0, true);
  }

  writeConfig(offset: number, width: number, value: number): boolean {
    if (width !== 4) return false;
    if (offset === 4) {
      if (value > this.inflated.size) {
        this.#ctx?.violation("balloon-actual-overstated", `actual ${value} written, but only ${this.inflated.size} page(s) are in the balloon (§5.5.6)`);
      }
      this.#view.setUint32(4, value >>> 0, true);
      return true;
    }
    if (offset === 12) {
      // §5.5.6.5.1: populated before DRIVER_OK, never modified while DRIVER_OK is set.
      if (this.#driverOk) this.#ctx?.violation("balloon-poison-after-driver-ok", `poison_val written while DRIVER_OK is set (§5.5.6.5.1)`);
      this.#view.setUint32(12, value >>> 0, true);
      this.#poisonWritten = true;
      return true;
    }
    return false;
  }

  driverOk(): void {
    this.#driverOk = true;
    if (this.#negotiated(F_PAGE_POISON) && !this.#poisonWritten) {
      this.#ctx?.violation("balloon-poison-not-set", `PAGE_POISON negotiated but poison_val not written before DRIVER_OK (§5.5.6.5.1)`);
    }
  }

  process(queue: number): void {
    const ctx = this.#ctx!;
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      if (queue === 0) this.#inflate(chain);
      else if (queue === 1) this.#deflate(chain);
      else if (queue === 2) this.#stats(chain);
      else if (queue === 3) this.#report(chain);
    }
  }

  #negotiated(bit: number): boolean {
    return ((this.#ctx?.driverFeatures ?? 0n) & (1n << BigInt(bit))) !== 0n;
  }

  /** The PFNs of an inflate/deflate chain, after the shape checks. */
  #frames(chain: DeviceChain, what: string): number[] {
    const ctx = this.#ctx!;
    if (chain.writable.length > 0) ctx.violation("balloon-writable-buffer", `${what} request ${chain.head} has device-writable buffers (§5.5.6: a page-frame array is device-readable)`);
    if (chain.readableLength % 4 !== 0) ctx.violation("balloon-pfn-array-size", `${what} request ${chain.head}: ${chain.readableLength} bytes are not whole 32-bit PFNs (§5.5.6)`);
    const bytes = chain.read();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: number[] = [];
    for (let i = 0; i + 4 <= bytes.length; i += 4) {
      const pfn = view.getUint32(i, true);
      if (!ctx.memory.contains(pfn * PAGE, PAGE)) {
        ctx.violation("balloon-pfn-outside-ram", `${what} request ${chain.head} names PFN 0x${pfn.toString(16)} (0x${(pfn * PAGE).toString(16)}), outside RAM`);
        continue;
      }
      out.push(pfn);
    }
    return out;
  }

  #inflate(chain: DeviceChain): void {
    const ctx = this.#ctx!;
    this.inflateRequests++;
    for (const pfn of this.#frames(chain, "inflate")) {
      if (this.inflated.has(pfn)) {
        ctx.violation("balloon-inflate-twice", `PFN 0x${pfn.toString(16)} inflated while already in the balloon`);
        continue;
      }
      this.inflated.add(pfn);
      // §5.5.6.2: the device MAY modify a page once it saw its number in an inflate request.
      ctx.memory.view(pfn * PAGE, PAGE).fill(scribble(pfn));
    }
    if (this.holdInflates) this.#heldInflates.push(chain);
    else ctx.complete(chain, 0);
  }

  #deflate(chain: DeviceChain): void {
    const ctx = this.#ctx!;
    this.deflateRequests++;
    for (const pfn of this.#frames(chain, "deflate")) {
      if (!this.inflated.has(pfn)) {
        ctx.violation("balloon-deflate-unknown", `PFN 0x${pfn.toString(16)} deflated but not in the balloon (§5.5.6.1)`);
        continue;
      }
      this.inflated.delete(pfn);
      // With DEFLATE_ON_OOM and no MUST_TELL_HOST the driver may have reused the page already.
      const mayBeInUse = this.#negotiated(F_DEFLATE_ON_OOM) && !this.#negotiated(F_MUST_TELL_HOST);
      if (!mayBeInUse && !ctx.memory.view(pfn * PAGE, PAGE).every((b) => b === scribble(pfn))) {
        ctx.violation("balloon-page-touched", `PFN 0x${pfn.toString(16)} was written by the driver while in the balloon (§5.5.6.1)`);
      }
    }
    ctx.complete(chain, 0);
  }

  #stats(chain: DeviceChain): void {
    const ctx = this.#ctx!;
    if (!this.#negotiated(F_STATS_VQ)) ctx.violation("balloon-stats-not-negotiated", `statsq buffer without STATS_VQ`);
    if (this.#statsHeld !== null) {
      ctx.violation("balloon-stats-two-buffers", `a second statsq buffer while one is available (§5.5.6.3.1: at most one)`);
      ctx.complete(this.#statsHeld, 0);
    }
    if (chain.writable.length > 0) ctx.violation("balloon-writable-buffer", `statsq buffer ${chain.head} has device-writable parts (§5.5.6.3: an output buffer)`);
    if (chain.readableLength % STAT_BYTES !== 0 || chain.readableLength === 0) {
      ctx.violation("balloon-stats-size", `statsq buffer of ${chain.readableLength} bytes is not whole 10-byte statistics (§5.5.6.3)`);
    }
    const bytes = chain.read();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const entries: BalloonStatEntry[] = [];
    for (let at = 0; at + STAT_BYTES <= bytes.length; at += STAT_BYTES) {
      entries.push({ tag: view.getUint16(at, true), value: view.getBigUint64(at + 2, true) });
    }
    const tags = entries.map((e) => e.tag).sort((a, b) => a - b).join(",");
    if (this.#statsTags !== null && tags !== this.#statsTags) {
      ctx.violation("balloon-stats-subset-changed", `statistics tags [${tags}] differ from the earlier [${this.#statsTags}] (§5.5.6.3.1)`);
    }
    this.#statsTags = tags;
    this.statsReceived.push(entries);
    this.#statsHeld = chain; // §5.5.6.3 step 5: retained to start the next request
  }

  #report(chain: DeviceChain): void {
    const ctx = this.#ctx!;
    if (chain.readable.length > 0) ctx.violation("balloon-report-readable", `report ${chain.head} has device-readable buffers (free pages are device-writable)`);
    const poison = this.#negotiated(F_PAGE_POISON);
    for (const seg of chain.writable) {
      if (seg.addr % PAGE !== 0 || seg.len % PAGE !== 0) {
        ctx.violation("balloon-report-partial-page", `report names [0x${seg.addr.toString(16)}, +${seg.len}), not whole pages`);
        continue;
      }
      for (let a = seg.addr; a < seg.addr + seg.len; a += PAGE) {
        const pfn = a / PAGE;
        if (this.inflated.has(pfn)) ctx.violation("balloon-report-inflated", `reported PFN 0x${pfn.toString(16)} is in the balloon`);
        const page = ctx.memory.view(a, PAGE);
        if (poison) {
          const v = this.poisonValue;
          const pv = new DataView(page.buffer, page.byteOffset, PAGE);
          for (let i = 0; i < PAGE; i += 4) {
            if (pv.getUint32(i, true) !== v) {
              ctx.violation("balloon-report-not-poisoned", `reported PFN 0x${pfn.toString(16)} does not hold poison_val 0x${v.toString(16)} (§5.5.6.7.1)`);
              break;
            }
          }
          page.fill(0); // §5.5.6.7.2: only to poison_val... (0 or the value itself below)
          if (v !== 0) for (let i = 0; i < PAGE; i += 4) pv.setUint32(i, v, true);
        } else {
          page.fill(0xee); // §5.5.6.7.2: without PAGE_POISON the device may change the page
        }
        this.reportedPages++;
      }
    }
    ctx.complete(chain, 0);
  }
}

/** The byte a page is filled with while it is in the balloon. */
function scribble(pfn: number): number {
  return 0x5a ^ (pfn & 0xff);
}
