// A tiny flattened-device-tree writer for tests (Devicetree Specification v0.4 §5):
// builds blobs with exactly the nodes a test needs, and lets it break them on purpose.

export type PropValue = string | string[] | number[] | Uint8Array;

export interface NodeSpec {
  name: string;
  props?: Record<string, PropValue>;
  children?: NodeSpec[];
}

function encodeValue(v: PropValue): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") v = [v];
  if (v.length && typeof v[0] === "string") {
    const text = (v as string[]).map((s) => s + "\0").join("");
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }
  const out = new Uint8Array(v.length * 4);
  const view = new DataView(out.buffer);
  (v as number[]).forEach((n, i) => view.setUint32(i * 4, n >>> 0, false));
  return out;
}

/** Serialises a tree into a DTB (version 17). */
export function writeFdt(root: NodeSpec): Uint8Array {
  const struct: number[] = [];
  const strings: number[] = [];
  const stringOffsets = new Map<string, number>();
  const u32 = (n: number) => struct.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  const pad = () => {
    while (struct.length % 4) struct.push(0);
  };
  const nameOffset = (name: string) => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      off = strings.length;
      stringOffsets.set(name, off);
      for (const c of name) strings.push(c.charCodeAt(0));
      strings.push(0);
    }
    return off;
  };
  const node = (n: NodeSpec) => {
    u32(1);
    for (const c of n.name) struct.push(c.charCodeAt(0));
    struct.push(0);
    pad();
    for (const [k, v] of Object.entries(n.props ?? {})) {
      const bytes = encodeValue(v);
      u32(3);
      u32(bytes.length);
      u32(nameOffset(k));
      struct.push(...bytes);
      pad();
    }
    for (const c of n.children ?? []) node(c);
    u32(2);
  };
  node(root);
  u32(9);
  const rsvmap = 16; // one empty reservation entry
  const offRsv = 40;
  const offStruct = offRsv + rsvmap;
  const offStrings = offStruct + struct.length;
  const total = offStrings + strings.length;
  const blob = new Uint8Array(total);
  const view = new DataView(blob.buffer);
  [0xd00dfeed, total, offStruct, offStrings, offRsv, 17, 16, 0, strings.length, struct.length].forEach((v, i) =>
    view.setUint32(i * 4, v, false),
  );
  blob.set(struct, offStruct);
  blob.set(strings, offStrings);
  return blob;
}

/** A small `virt`-like tree: GIC (phandle 1), RAM, and virtio-mmio windows at the given bases. */
export function virtLike(windows: { base: number; spi: number }[], extra: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: "",
    props: { model: "test,virt", compatible: "test,virt", "#address-cells": [2], "#size-cells": [2], "interrupt-parent": [1] },
    children: [
      { name: "memory@40000000", props: { device_type: "memory", reg: [0, 0x40000000, 0, 0x4000000] } },
      {
        name: "intc@8000000",
        props: { compatible: "arm,cortex-a15-gic", "#interrupt-cells": [3], "interrupt-controller": [], phandle: [1], reg: [0, 0x8000000, 0, 0x10000, 0, 0x8010000, 0, 0x10000] },
      },
      ...windows.map((w) => ({
        name: `virtio_mmio@${w.base.toString(16)}`,
        props: { compatible: "virtio,mmio", reg: [0, w.base, 0, 0x200], interrupts: [0, w.spi, 1] },
      })),
      ...(extra.children ?? []),
    ],
  };
}
