// platform/fdt.ts: malformed blobs give an FdtError naming the problem, never a crash.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FdtError, parseBoardInfo } from "../../../platform/fdt.js";
import { virtLike, writeFdt } from "./fdt-writer.js";

function throwsFdt(blob: Uint8Array, pattern: RegExp): FdtError {
  try {
    parseBoardInfo(blob);
  } catch (e) {
    assert.instance(e, FdtError);
    assert.match((e as Error).message, pattern);
    return e as FdtError;
  }
  assert.unreachable(`no error, expected ${pattern}`);
  throw new Error("unreachable");
}

const good = () => writeFdt(virtLike([{ base: 0x0a000000, spi: 16 }]));
const setU32 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(off, v, false);

test("too small for a header", () => {
  throwsFdt(new Uint8Array(12), /too small/);
});

test("bad magic carries the value", () => {
  const b = good();
  setU32(b, 0, 0x12345678);
  const e = throwsFdt(b, /bad DTB magic 0x12345678/);
  assert.is(e.value, 0x12345678);
});

test("totalsize larger than the buffer", () => {
  const b = good();
  setU32(b, 4, b.length + 1);
  throwsFdt(b, /totalsize/);
});

test("truncated blob (cut in the structure block)", () => {
  const b = good();
  throwsFdt(b.slice(0, 80), /totalsize/);
});

test("structure block outside the blob", () => {
  const b = good();
  setU32(b, 36, 0x7fffffff);
  throwsFdt(b, /structure block/);
});

test("unsupported version", () => {
  const b = good();
  setU32(b, 20, 3);
  throwsFdt(b, /unsupported DTB version 3/);
});

test("unknown structure token", () => {
  const b = good();
  const offStruct = new DataView(b.buffer).getUint32(8, false);
  setU32(b, offStruct, 7);
  throwsFdt(b, /unknown structure token 0x7/);
});

test("property length running past the structure block", () => {
  const b = good();
  const offStruct = new DataView(b.buffer).getUint32(8, false);
  // root node: BEGIN_NODE, "\0" padded to 4, then the first PROP token and its length
  setU32(b, offStruct + 12, 0x00ffffff);
  throwsFdt(b, /property length/);
});

test("property name offset outside the strings block", () => {
  const b = good();
  const offStruct = new DataView(b.buffer).getUint32(8, false);
  setU32(b, offStruct + 16, 0x00ffffff);
  throwsFdt(b, /name offset/);
});

test("no memory node", () => {
  const spec = virtLike([]);
  spec.children = spec.children!.filter((c) => !c.name.startsWith("memory"));
  throwsFdt(writeFdt(spec), /no memory node/);
});

test("virtio node whose interrupt parent is not a GIC", () => {
  const spec = virtLike([{ base: 0x0a000000, spi: 16 }]);
  spec.children!.push({ name: "other-intc", props: { compatible: "acme,pic", phandle: [2], "#interrupt-cells": [3] } });
  spec.children!.find((c) => c.name.startsWith("virtio"))!.props!["interrupt-parent"] = [2];
  throwsFdt(writeFdt(spec), /not a GIC/);
});

test("virtio node with a dangling interrupt-parent phandle", () => {
  const spec = virtLike([{ base: 0x0a000000, spi: 16 }]);
  spec.children!.find((c) => c.name.startsWith("virtio"))!.props!["interrupt-parent"] = [9];
  throwsFdt(writeFdt(spec), /phandle 0x9 names no node/);
});

test("virtio node with a short interrupts property", () => {
  const spec = virtLike([{ base: 0x0a000000, spi: 16 }]);
  spec.children!.find((c) => c.name.startsWith("virtio"))!.props!.interrupts = [0, 16];
  throwsFdt(writeFdt(spec), /interrupts needs 3 cells/);
});

test("reg not a multiple of address + size cells", () => {
  const spec = virtLike([{ base: 0x0a000000, spi: 16 }]);
  spec.children!.find((c) => c.name.startsWith("virtio"))!.props!.reg = [0, 0x0a000000, 0];
  throwsFdt(writeFdt(spec), /reg has 3 cells/);
});

test("random corruption never escapes as anything but FdtError or a valid result", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 300; i++) {
    const b = good();
    for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    try {
      parseBoardInfo(b);
    } catch (e) {
      if (!(e instanceof FdtError)) throw new Error(`corruption ${i} threw ${String(e)}`);
    }
  }
});

test.run();
