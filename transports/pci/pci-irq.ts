// How one virtio-pci function interrupts, as Linux's virtio_pci_common.c chooses it:
// MSI-X with a vector for the configuration and one per queue; else MSI-X with the
// configuration vector and one vector shared by the queues; else INTx (shared line,
// ISR read-to-acknowledge). The core attaches one handler (Transport.interrupts); this
// object delivers every vector's line to it and remembers which kind fired, so the
// transport can answer interruptStatus() without an ISR (MSI-X does not set it).

import type { InterruptHandler, Interrupts, Platform } from "../../platform/platform.js";
import { INTERRUPT_CONFIG_CHANGE, INTERRUPT_USED_BUFFER } from "../../drivers/virtio/transport.js";
import { sharedIntx } from "./intx-lines.js";
import type { MsiFrame } from "./msi-frame.js";
import type { MsixTable } from "./msix-table.js";

interface Vector {
  readonly entry: number;
  readonly intid: number;
  readonly bits: number;
}

export class PciIrq implements Interrupts {
  readonly #platform: Platform;
  readonly #intxLine: number | null;
  readonly #intx: Interrupts;
  readonly #table: MsixTable | null;
  readonly #frame: MsiFrame | null;
  readonly #vectors: Vector[] = [];
  #mode: "msix" | "intx";
  #handler: InterruptHandler | null = null;
  #enabled = false;
  /** Interrupt kinds signalled by MSI-X vectors since the core last acknowledged. */
  pending = 0;

  constructor(platform: Platform, intxLine: number | null, table: MsixTable | null, frame: MsiFrame | null) {
    this.#platform = platform;
    this.#intxLine = intxLine;
    this.#intx = sharedIntx(platform);
    this.#table = table;
    this.#frame = frame;
    this.#mode = table !== null && frame !== null && table.size >= 2 ? "msix" : "intx";
    if (this.#mode === "msix") table!.enableMasked();
  }

  get mode(): "msix" | "intx" {
    return this.#mode;
  }

  /** The number the core attaches to: the first vector's line, or the INTx line (-1: none). */
  get line(): number {
    return this.#mode === "msix" ? (this.#vectors[0]?.intid ?? this.#frame!.firstIntid) : (this.#intxLine ?? -1);
  }

  describe(): string {
    if (this.#mode === "intx") return this.#intxLine === null ? "none" : `intx ${this.#intxLine}`;
    const lines = this.#vectors.map((v) => v.intid);
    return `msix ${lines.length} (${lines.length ? `${Math.min(...lines)}-${Math.max(...lines)}` : "-"})`;
  }

  /**
   * Table entry `entry` signals `bits` (config or used buffers) on a fresh SPI; returns the
   * entry, or -1 if MSI-X is off, the table has no such entry or the frame is out of SPIs.
   */
  useVector(entry: number, bits: number): number {
    if (this.#mode !== "msix" || entry >= this.#table!.size) return -1;
    const had = this.#vectors.find((v) => v.entry === entry);
    if (had) return entry;
    const intid = this.#frame!.allocate();
    if (intid < 0) return -1;
    const v: Vector = { entry, intid, bits };
    this.#vectors.push(v);
    this.#table!.program(entry, this.#frame!.messageAddress, intid);
    if (this.#handler) this.#attachVector(v);
    return entry;
  }

  /** Starts delivering: the function mask comes off once the vectors are programmed. */
  unmask(): void {
    if (this.#mode === "msix") this.#table!.unmaskFunction();
  }

  /** MSI-X refused (a vector read back NO_VECTOR): every vector goes, INTx from now on. */
  fallBackToIntx(): void {
    if (this.#mode === "intx") return;
    for (const v of this.#vectors) this.#detachVector(v);
    for (const v of this.#vectors) {
      this.#table!.mask(v.entry);
      this.#frame!.free(v.intid);
    }
    this.#vectors.length = 0;
    this.#table!.disable();
    this.#mode = "intx";
    this.pending = 0;
    if (this.#handler && this.#intxLine !== null) {
      this.#intx.attach(this.#intxLine, this.#handler);
      if (this.#enabled) this.#intx.enable(this.#intxLine);
    }
  }

  #attachVector(v: Vector): void {
    const handler = this.#handler!;
    this.#platform.irq.attach(v.intid, (line) => {
      this.pending |= v.bits;
      handler(line);
    });
    if (this.#enabled) this.#platform.irq.enable(v.intid);
  }

  #detachVector(v: Vector): void {
    if (!this.#handler) return;
    this.#platform.irq.disable(v.intid);
    this.#platform.irq.detach(v.intid);
  }

  // ---- Interrupts, as the core calls it (the line number is this.line) ----

  attach(_line: number, handler: InterruptHandler): void {
    this.#handler = handler;
    if (this.#mode === "msix") for (const v of this.#vectors) this.#attachVector(v);
    else if (this.#intxLine !== null) this.#intx.attach(this.#intxLine, handler);
  }

  detach(): void {
    if (this.#mode === "msix") for (const v of this.#vectors) this.#detachVector(v);
    else if (this.#intxLine !== null) this.#intx.detach(this.#intxLine);
    this.#handler = null;
  }

  enable(): void {
    this.#enabled = true;
    if (this.#mode === "msix") for (const v of this.#vectors) this.#platform.irq.enable(v.intid);
    else if (this.#intxLine !== null) this.#intx.enable(this.#intxLine);
  }

  disable(): void {
    this.#enabled = false;
    if (this.#mode === "msix") for (const v of this.#vectors) this.#platform.irq.disable(v.intid);
    else if (this.#intxLine !== null) this.#intx.disable(this.#intxLine);
  }

  eoi(): void {
    // Ended by the platform's dispatcher.
  }
}

export const CONFIG_BITS = INTERRUPT_CONFIG_CHANGE;
export const QUEUE_BITS = INTERRUPT_USED_BUFFER;
