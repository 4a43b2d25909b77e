// A flattened device tree (DTB) parser for BoardInfo (Devicetree Specification v0.4,
// chapter 5 "Flattened Devicetree (DTB) Format"). Shared by XS and Node: no host APIs.
// Every value in a DTB is BIG-endian (spec §5.1), unlike the virtio registers, so every
// DataView read here passes `false`. Nothing is trusted: each offset and length is checked
// against the blob, and a malformed blob throws an FdtError naming the offending value.

import type { BoardInfo, VirtioMmioWindow } from "./platform.js";
import { parsePciHost } from "./fdt-pci.js";

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;
/** Deepest node nesting accepted (real trees are < 10 deep). */
const MAX_DEPTH = 32;

/** The blob is not a valid DTB, or lacks what BoardInfo needs. */
export class FdtError extends Error {
  constructor(
    message: string,
    /** Byte offset in the blob where the problem was found, if any. */
    readonly offset?: number,
    /** The offending value, if any. */
    readonly value?: number | string,
  ) {
    super(offset === undefined ? message : `${message} (at offset ${offset})`);
    this.name = "FdtError";
  }
}

/** One node of the tree: its name, its properties (raw bytes) and its children. */
export interface FdtNode {
  readonly name: string;
  readonly parent: FdtNode | null;
  readonly props: Map<string, Uint8Array>;
  readonly children: FdtNode[];
}

function u32(view: DataView, offset: number): number {
  return view.getUint32(offset, false);
}

/** Big-endian 32-bit read of bytes `b` at `o`. On XS a DataView call (~10 icount-us)
 * costs a third of four element reads, shifts and ors in JavaScript. */
function be32(b: Uint8Array, o: number): number {
  return new DataView(b.buffer, b.byteOffset + o, 4).getUint32(0, false);
}

/** Characters per String.fromCharCode call (an argument list, kept short). */
const CHARS_PER_CALL = 1024;

/** bytes[start, end) as text, a byte per character (Latin-1; the tree's strings are ASCII).
 * The typed array is the call's argument list (apply): on XS under TCG that is ~7 us a
 * character, against ~16 for a spread, and the names are much of the boot's DTB work. */
function text(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  for (let at = start; at < end; at += CHARS_PER_CALL) {
    out += String.fromCharCode.apply(null, bytes.subarray(at, Math.min(end, at + CHARS_PER_CALL)) as unknown as number[]);
  }
  return out;
}

/** Offset of the NUL ending the string at `start` (before `end`), or -1. indexOf is
 * native: one call, not an interpreted step per byte. */
function nulAt(bytes: Uint8Array, start: number, end: number): number {
  const i = bytes.indexOf(0, start);
  return i >= 0 && i < end ? i : -1;
}

/** Decodes a NUL-terminated string of bytes (the tree's names are ASCII). */
function cString(bytes: Uint8Array, start: number, end: number, what: string): { text: string; next: number } {
  const i = nulAt(bytes, start, end);
  if (i < 0) throw new FdtError(`unterminated ${what}`, start);
  return { text: text(bytes, start, i), next: i + 1 };
}

/** A node as parseFdtTree() builds it: the name is decoded when first asked for (most
 * are only ever named in an error message). */
class TreeNode implements FdtNode {
  readonly parent: FdtNode | null;
  readonly props = new Map<string, Uint8Array>();
  readonly children: FdtNode[] = [];
  #name: string | null = null;
  readonly #blob: Uint8Array;
  readonly #nameStart: number;
  readonly #nameEnd: number;

  constructor(parent: FdtNode | null, blob: Uint8Array, nameStart: number, nameEnd: number) {
    this.parent = parent;
    this.#blob = blob;
    this.#nameStart = nameStart;
    this.#nameEnd = nameEnd;
  }

  get name(): string {
    this.#name ??= text(this.#blob, this.#nameStart, this.#nameEnd);
    return this.#name;
  }
}

/** "<node name> <property>", made only for an error message. */
function label(node: FdtNode | null, prop: string): string {
  return node === null ? prop : `${node.name} ${prop}`;
}

/** Parses the structure block into a tree (spec §5.4). */
export function parseFdtTree(blob: Uint8Array): FdtNode {
  if (blob.length < HEADER_SIZE) throw new FdtError(`blob too small for a DTB header: ${blob.length} bytes`, 0, blob.length);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const magic = u32(view, 0);
  if (magic !== FDT_MAGIC) throw new FdtError(`bad DTB magic 0x${magic.toString(16)}`, 0, magic);
  const total = u32(view, 4);
  if (total < HEADER_SIZE || total > blob.length) throw new FdtError(`DTB totalsize ${total} does not fit the ${blob.length}-byte blob`, 4, total);
  const offStruct = u32(view, 8);
  const offStrings = u32(view, 12);
  const version = u32(view, 20);
  const lastCompatible = u32(view, 24);
  const sizeStrings = u32(view, 32);
  const sizeStruct = u32(view, 36);
  if (version < 16 || lastCompatible > 17) throw new FdtError(`unsupported DTB version ${version} (last compatible ${lastCompatible})`, 20, version);
  if (offStruct > total || sizeStruct > total - offStruct || offStruct % 4 !== 0)
    throw new FdtError(`structure block [${offStruct}, +${sizeStruct}) outside the blob`, 8, offStruct);
  if (offStrings > total || sizeStrings > total - offStrings)
    throw new FdtError(`strings block [${offStrings}, +${sizeStrings}) outside the blob`, 12, offStrings);

  const end = offStruct + sizeStruct;
  const stringsEnd = offStrings + sizeStrings;
  let pos = offStruct;
  let root: FdtNode | null = null;
  let current: FdtNode | null = null;
  let depth = 0;
  const names = new Map<number, string>(); // property names repeat: decode each once
  while (true) {
    if (pos + 4 > end) throw new FdtError("structure block ends without FDT_END", pos);
    const token = view.getUint32(pos, false);
    const tokenAt = pos;
    pos += 4;
    if (token === FDT_BEGIN_NODE) {
      const nul = nulAt(blob, pos, end);
      if (nul < 0) throw new FdtError("unterminated node name", pos);
      const node: FdtNode = new TreeNode(current, blob, pos, nul);
      pos = (nul + 1 + 3) & ~3;
      if (++depth > MAX_DEPTH) throw new FdtError(`nodes nested deeper than ${MAX_DEPTH}`, tokenAt, depth);
      if (current) current.children.push(node);
      else if (root) throw new FdtError("a second root node", tokenAt);
      else root = node;
      current = node;
    } else if (token === FDT_END_NODE) {
      if (!current) throw new FdtError("FDT_END_NODE without a node", tokenAt);
      current = current.parent;
      depth--;
    } else if (token === FDT_PROP) {
      if (!current) throw new FdtError("property outside any node", tokenAt);
      if (pos + 8 > end) throw new FdtError("truncated property header", pos);
      const len = view.getUint32(pos, false);
      const nameOff = view.getUint32(pos + 4, false);
      pos += 8;
      if (len > end - pos) throw new FdtError(`property length ${len} runs past the structure block`, pos - 8, len);
      if (nameOff >= sizeStrings) throw new FdtError(`property name offset ${nameOff} outside the strings block`, pos - 4, nameOff);
      let name = names.get(nameOff);
      if (name === undefined) {
        name = cString(blob, offStrings + nameOff, stringsEnd, "property name").text;
        names.set(nameOff, name);
      }
      current.props.set(name, blob.subarray(pos, pos + len));
      pos = (pos + len + 3) & ~3;
    } else if (token === FDT_NOP) {
      continue;
    } else if (token === FDT_END) {
      if (current) throw new FdtError(`FDT_END with ${depth} node(s) still open`, tokenAt, depth);
      break;
    } else {
      throw new FdtError(`unknown structure token 0x${token.toString(16)}`, tokenAt, token);
    }
  }
  if (!root) throw new FdtError("no root node", offStruct);
  return root;
}

/** The strings of a string-list property (e.g. `compatible`). */
export function propStrings(value: Uint8Array | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i === value.length || value[i] === 0) {
      if (i > start) out.push(text(value, start, i));
      else if (i < value.length) out.push("");
      start = i + 1;
    }
  }
  return out;
}

/** True if the string list `value` holds `want` (compared as bytes, nothing decoded). */
export function hasString(value: Uint8Array | undefined, want: string): boolean {
  if (!value) return false;
  const n = want.length;
  let start = 0;
  while (start < value.length) {
    let end = value.indexOf(0, start);
    if (end < 0) end = value.length;
    if (end - start === n) {
      let i = 0;
      while (i < n && value[start + i] === want.charCodeAt(i)) i++;
      if (i === n) return true;
    }
    start = end + 1;
  }
  return false;
}

/** The big-endian 32-bit cells of property `prop` of `node` (named in errors only). */
export function propCells(value: Uint8Array | undefined, node: FdtNode | null, prop: string): number[] {
  if (!value) return [];
  const n = value.length;
  if (n % 4 !== 0) throw new FdtError(`${label(node, prop)}: length ${n} is not a whole number of cells`, undefined, n);
  const out = new Array<number>(n >> 2);
  const view = new DataView(value.buffer, value.byteOffset, n);
  for (let i = 0, k = 0; i < n; i += 4, k++) out[k] = view.getUint32(i, false);
  return out;
}

/** Cell counts per node (parents are asked once per child otherwise). */
const cellCache = new WeakMap<FdtNode, { "#address-cells"?: number; "#size-cells"?: number }>();

export function cellCount(node: FdtNode | null, name: "#address-cells" | "#size-cells", fallback: number): number {
  if (!node) return fallback;
  let cached = cellCache.get(node);
  if (!cached) cellCache.set(node, (cached = {}));
  const hit = cached[name];
  if (hit !== undefined) return hit;
  const n = cellCountUncached(node, name, fallback);
  cached[name] = n;
  return n;
}

function cellCountUncached(node: FdtNode | null, name: "#address-cells" | "#size-cells", fallback: number): number {
  const v = node?.props.get(name);
  if (!v) return fallback;
  const cells = propCells(v, node, name);
  if (cells.length !== 1 || cells[0]! > 2) throw new FdtError(`${node!.name}: ${name} must be one cell of at most 2`, undefined, cells[0]);
  return cells[0]!;
}

/** A 1- or 2-cell number of property `prop` of `node`; 2^53 and above is refused. */
export function cellsToNumber(cells: number[], at: number, count: number, node: FdtNode | null, prop: string): number {
  let v = 0;
  for (let i = 0; i < count; i++) v = v * 0x1_0000_0000 + cells[at + i]!;
  if (v > Number.MAX_SAFE_INTEGER) throw new FdtError(`${label(node, prop)}: value too large`, undefined, v);
  return v;
}

/** The (address, size) pairs of a node's `reg`, in its parent's cell sizes (spec §2.3.6). */
export function regOf(node: FdtNode): { base: number; size: number }[] {
  const ac = cellCount(node.parent, "#address-cells", 2);
  const sc = cellCount(node.parent, "#size-cells", 1);
  const cells = propCells(node.props.get("reg"), node, "reg");
  const step = ac + sc;
  if (step === 0 || cells.length % step !== 0) throw new FdtError(`${node.name}: reg has ${cells.length} cells, not a multiple of ${step}`, undefined, cells.length);
  const out = [];
  for (let i = 0; i < cells.length; i += step) {
    out.push({ base: cellsToNumber(cells, i, ac, node, "reg"), size: cellsToNumber(cells, i + ac, sc, node, "reg") });
  }
  return out;
}

function walk(node: FdtNode, visit: (n: FdtNode) => void): void {
  visit(node);
  for (const c of node.children) walk(c, visit);
}

/** Devicetree spec §2.3.4: a node is operational when its `status` is "okay" (or the
 * older "ok") or absent; "disabled", "reserved", "fail", "fail-sss" are not. A node under
 * one that is not operational is not either. */
function isEnabled(node: FdtNode): boolean {
  for (let n: FdtNode | null = node; n; n = n.parent) {
    const status = n.props.get("status");
    if (status && !hasString(status, "okay") && !hasString(status, "ok")) return false;
  }
  return true;
}

function phandleOf(node: FdtNode): number | undefined {
  const v = node.props.get("phandle") ?? node.props.get("linux,phandle");
  return v && v.length === 4 ? be32(v, 0) : undefined;
}

/** The controller an `interrupt-parent` property (its bytes) names, once resolved. */
const parentOf = new WeakMap<Uint8Array, FdtNode>();

/** Interrupt controllers already recognised, with the binding their specifiers follow. */
const controllerKinds = new WeakMap<FdtNode, "gic" | "plic">();

const GIC_COMPATIBLE = ["arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a9-gic", "arm,cortex-a7-gic", "arm,gic-v3"];
const PLIC_COMPATIBLE = ["riscv,plic0", "sifive,plic-1.0.0"];

function controllerKind(ctl: FdtNode, what: () => string): "gic" | "plic" {
  let kind = controllerKinds.get(ctl);
  if (kind === undefined) {
    const compatible = ctl.props.get("compatible");
    if (GIC_COMPATIBLE.some((c) => hasString(compatible, c))) kind = "gic";
    else if (PLIC_COMPATIBLE.some((c) => hasString(compatible, c))) kind = "plic";
    else throw new FdtError(`${what()}: interrupt controller ${ctl.name} is not a GIC or a PLIC`, undefined, ctl.name);
    controllerKinds.set(ctl, kind);
  }
  return kind;
}

/**
 * One interrupt specifier of controller `ctl` starting at `cells[at]`, as the line number
 * the firmware's interrupt natives take: for a GIC (3 cells <type number flags>) the INTID,
 * SPI n = 32 + n, PPI n = 16 + n; for a RISC-V PLIC (1 cell) the source number, 1-1023.
 * `cells` is how many cells the specifier took.
 */
export function interruptLine(ctl: FdtNode, cells: readonly number[], at: number, what: () => string): { line: number; cells: number } {
  if (controllerKind(ctl, what) === "plic") {
    if (at >= cells.length) throw new FdtError(`${what()}: interrupts needs 1 cell (PLIC), has 0`, undefined, 0);
    const source = cells[at]!;
    if (source < 1 || source > 1023) throw new FdtError(`${what()}: PLIC source ${source} is not 1-1023`, undefined, source);
    return { line: source, cells: 1 };
  }
  if (at + 3 > cells.length) throw new FdtError(`${what()}: interrupts needs 3 cells, has ${cells.length - at}`, undefined, cells.length - at);
  const [type, num] = [cells[at]!, cells[at + 1]!];
  if (type === 0 && num < 988) return { line: 32 + num, cells: 3 };
  if (type === 1 && num < 16) return { line: 16 + num, cells: 3 };
  throw new FdtError(`${what()}: interrupt type ${type} number ${num} is not a GIC SPI or PPI`, undefined, num);
}

/**
 * The interrupt line of a node (interruptLine: a GIC INTID or a PLIC source). The
 * controller is found through `interrupt-parent` (the node's or an ancestor's, spec §2.4.1).
 */
export function interruptOf(node: FdtNode, byPhandle: Map<number, FdtNode>): number {
  let n: FdtNode | null = node;
  while (n && !n.props.has("interrupt-parent")) n = n.parent;
  if (!n) throw new FdtError(`${node.name}: no interrupt-parent`);
  const value = n.props.get("interrupt-parent")!;
  // The 32 virtio-mmio nodes inherit one from the root: looked up once per property.
  let ctl = parentOf.get(value);
  if (ctl === undefined) {
    const ph = propCells(value, n, "interrupt-parent")[0]!;
    ctl = byPhandle.get(ph);
    if (!ctl) throw new FdtError(`${node.name}: interrupt-parent phandle 0x${ph.toString(16)} names no node`, undefined, ph);
    parentOf.set(value, ctl);
  }
  const cells = propCells(node.props.get("interrupts"), node, "interrupts");
  return interruptLine(ctl, cells, 0, () => node.name).line;
}

/** BoardInfo from a DTB: model, the first RAM bank, the virtio-mmio windows in address order,
 * the PCIe host bridge (fdt-pci.ts) if it is reachable. */
export function parseBoardInfo(blob: Uint8Array): BoardInfo {
  const root = parseFdtTree(blob);
  const byPhandle = new Map<number, FdtNode>();
  walk(root, (n) => {
    const ph = phandleOf(n);
    if (ph !== undefined) byPhandle.set(ph, n);
  });
  const model = propStrings(root.props.get("model"))[0] ?? propStrings(root.props.get("compatible"))[0] ?? "unknown";

  let ram: { base: number; size: number } | null = null;
  const windows: { base: number; size: number; irq: number }[] = [];
  const pciHosts: FdtNode[] = [];
  walk(root, (n) => {
    const props = n.props;
    const type = props.get("device_type"); // on few nodes: one look-up for both tests
    if (type !== undefined) {
      if (hasString(type, "pci") && isEnabled(n)) pciHosts.push(n);
      if (!ram && hasString(type, "memory") && isEnabled(n)) {
        const banks = regOf(n);
        if (banks.length) ram = banks[0]!;
      }
    }
    if (hasString(props.get("compatible"), "virtio,mmio") && isEnabled(n)) {
      const regs = regOf(n);
      if (!regs.length) throw new FdtError(`${n.name}: virtio,mmio node without reg`);
      const reg = regs[0]!;
      windows.push({ base: reg.base, size: reg.size, irq: interruptOf(n, byPhandle) });
    }
  });
  if (!ram) throw new FdtError("no memory node (device_type = \"memory\")");
  windows.sort((a, b) => a.base - b.base);
  const virtioMmio: VirtioMmioWindow[] = windows.map((w, slot) => Object.freeze({ slot, base: w.base, size: w.size, irq: w.irq }));
  const r: { base: number; size: number } = ram;
  const pci = parsePciHost(pciHosts, byPhandle);
  return Object.freeze({ model, ram: Object.freeze({ base: r.base, size: r.size }), virtioMmio: Object.freeze(virtioMmio), pci });
}
