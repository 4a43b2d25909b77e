// platform/xs/platform.ts over fake natives: what the C loop's hooks do (interrupt dispatch
// then eoi, console bytes, timers), the DMA region, the board from the DTB, argument checks.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";

const calls: [string, ...unknown[]][] = [];
let now = 1000;
const dtb = readFileSync(new URL("../../../../../tests/unit/fdt/fixtures/qemu-virt-7.2-128M.dtb", import.meta.url));
const dtbBuffer = dtb.buffer.slice(dtb.byteOffset, dtb.byteOffset + dtb.byteLength);
const dma = new ArrayBuffer(65536);
const g = globalThis as Record<string, unknown>;
const record = (name: string, result?: unknown) => (...args: unknown[]) => {
  calls.push([name, ...args]);
  return result;
};
for (const n of ["Mb", "Wmb", "Rmb", "IrqEnable", "IrqDisable", "IrqEoi", "TimerArm", "ConsoleWrite", "PowerOff", "Gc"]) g[`__xs${n}`] = record(n);
for (const w of [8, 16, 32]) {
  g[`__xsMmioRead${w}`] = record(`read${w}`, 0x74726976 & (2 ** w - 1));
  g[`__xsMmioWrite${w}`] = record(`write${w}`);
}
g.__xsNow = () => now;
g.__xsDmaRegion = () => dma;
g.__xsDmaBase = () => 0x40300000;
const pagePool = new ArrayBuffer(8 * 4096);
g.__xsPagePoolRegion = () => pagePool;
g.__xsPagePoolBase = () => 0x42000000;
g.__xsDtb = () => dtbBuffer;
g.__xsEngineStats = () => ({ chunksUsed: 1, slotsUsed: 2 });
g.__xsBoardName = () => "qemu-virt-arm";

const { createXsPlatform, InterruptLineError } = await import("../../../platform/xs/platform.js");
const platform = createXsPlatform();
const hooks = () => g.__xsHooks as { irq(l: number): void; rx(b: ArrayBuffer): void; timers(): void };
const last = (name: string) => calls.filter((c) => c[0] === name).at(-1);

test("the page pool is the region the natives name, in 4 KiB pages", () => {
  const pages = platform.pages!;
  assert.is(pages.totalPages, 8);
  const page = pages.alloc();
  assert.is(page.phys, 0x42000000);
  page.bytes[0] = 7;
  assert.is(new Uint8Array(pagePool)[0], 7, "the page is a view of the region, not a copy");
  pages.free(page);
});

test("one platform per boot, board from the DTB, DMA pool over the region", () => {
  assert.is(createXsPlatform(), platform);
  assert.is(platform.name, "xs-qemu-virt-arm");
  assert.is(platform.board.virtioMmio.length, 32);
  assert.equal(platform.board.ram, { base: 0x40000000, size: 128 << 20 });
  const b = platform.dma.alloc(100, 64);
  assert.ok(b.phys >= 0x40300000 && b.phys % 64 === 0);
  b.view.setUint32(0, 0x12345678, true);
  assert.is(new DataView(dma).getUint32(b.phys - 0x40300000, true), 0x12345678);
  platform.dma.free(b);
});

test("mmio and barriers go to the natives with their widths", () => {
  assert.is(platform.mmio.read32(0x0a000000), 0x74726976);
  platform.mmio.write16(0x0a000070, 7);
  platform.barriers.wmb();
  assert.equal(last("write16"), ["write16", 0x0a000070, 7]);
  assert.ok(last("Wmb"));
});

test("an interrupt calls the handler, then eoi unmasks the line", () => {
  const seen: number[] = [];
  platform.irq.attach(48, (line) => {
    seen.push(line);
    calls.push(["handler", line]);
  });
  platform.irq.enable(48);
  assert.equal(last("IrqEnable"), ["IrqEnable", 48]);
  calls.length = 0;
  hooks().irq(48);
  assert.equal(seen, [48]);
  assert.equal(calls.map((c) => c[0]), ["handler", "IrqEoi"]);
});

test("a throwing handler is reported and the line still gets its eoi", () => {
  platform.irq.attach(49, () => {
    throw new Error("handler broke");
  });
  calls.length = 0;
  hooks().irq(49);
  assert.match(String(last("ConsoleWrite")?.[1]), /interrupt 49 handler: Error: handler broke/);
  assert.equal(last("IrqEoi"), ["IrqEoi", 49]);
});

test("a line without a handler is still ended", () => {
  calls.length = 0;
  hooks().irq(60);
  assert.equal(calls, [["IrqEoi", 60]]);
});

test("attach checks its arguments; detach disables", () => {
  assert.throws(() => platform.irq.attach(48, () => {}), (e: unknown) => e instanceof InterruptLineError && e.line === 48);
  assert.throws(() => platform.irq.attach(2000, () => {}), (e: unknown) => e instanceof InterruptLineError);
  assert.throws(() => platform.irq.attach(50, null as never), (e: unknown) => e instanceof InterruptLineError);
  platform.irq.detach(48);
  assert.equal(last("IrqDisable"), ["IrqDisable", 48]);
  platform.irq.attach(48, () => {});
  platform.irq.detach(48);
});

test("console: text and exact bytes out, received bytes to onReceive", () => {
  platform.console.write("hi\n");
  assert.equal(last("ConsoleWrite"), ["ConsoleWrite", "hi\n"]);
  const big = Uint8Array.from([1, 2, 3, 4, 5]);
  platform.console.write(big.subarray(1, 3));
  const sent = last("ConsoleWrite")![1] as ArrayBuffer;
  assert.equal([...new Uint8Array(sent)], [2, 3]);
  const got: number[][] = [];
  platform.console.onReceive = (d) => got.push([...d]);
  hooks().rx(Uint8Array.from([104, 105]).buffer);
  assert.equal(got, [[104, 105]]);
  platform.console.onReceive = () => {
    throw new Error("receiver broke");
  };
  hooks().rx(new ArrayBuffer(1));
  assert.match(String(last("ConsoleWrite")?.[1]), /console receiver: Error: receiver broke/);
  platform.console.onReceive = null;
  hooks().rx(new ArrayBuffer(1));
});

test("timers arm the hardware deadline and run from the loop's hook", () => {
  let fired = 0;
  now = 2000;
  platform.timers.set(() => fired++, 25);
  assert.equal(last("TimerArm"), ["TimerArm", 2025]);
  now = 2025;
  hooks().timers();
  assert.is(fired, 1);
  assert.equal(last("TimerArm"), ["TimerArm", -1]);
});

test("clock, engine stats, power off", () => {
  now = 1234.5;
  assert.is(platform.clock.now(), 1234.5);
  assert.equal({ ...platform.engineStats() }, { chunksUsed: 1, slotsUsed: 2 });
  platform.powerOff();
  assert.ok(last("PowerOff"));
});

test.run();
