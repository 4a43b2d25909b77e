// The host platform itself: memory, MMIO bus, DMA, interrupts, console, timers, clock,
// settle and power-off, with the semantics platform/platform.ts states.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHostModel, MemoryAccessError, MmioAccessError, PhysicalMemory, RngDevice } from "../../../platform/host/index.js";

test("memory: little-endian accessors by physical address", () => {
  const m = new PhysicalMemory(0x40000000, 4096);
  m.write32(0x40000010, 0x11223344);
  assert.is(m.read8(0x40000010), 0x44);
  assert.is(m.read16(0x40000012), 0x1122);
  m.write64(0x40000020, 0x0102030405060708n);
  assert.is(m.read32(0x40000020), 0x05060708);
  assert.is(m.read64(0x40000020), 0x0102030405060708n);
  m.write16(0x40000ffe, 0xbeef);
  assert.is(m.read16(0x40000ffe), 0xbeef);
});

test("memory: out-of-range access is a clear error", () => {
  const m = new PhysicalMemory(0x40000000, 4096);
  assert.throws(() => m.read32(0x40000ffe), (e: unknown) => e instanceof MemoryAccessError && e.addr === 0x40000ffe && e.length === 4);
  assert.throws(() => m.write8(0x3fffffff, 1), (e: unknown) => e instanceof MemoryAccessError);
  assert.not.ok(m.contains(0x40000000, 4097));
  assert.ok(m.contains(0x40000000, 4096));
});

test("MMIO bus: unmapped and unaligned accesses throw", () => {
  const model = createHostModel();
  assert.throws(() => model.platform.mmio.read32(0x0b000000), (e: unknown) => e instanceof MmioAccessError && e.addr === 0x0b000000);
  assert.throws(() => model.platform.mmio.read32(0x0a000002), (e: unknown) => e instanceof MmioAccessError && /unaligned/.test(e.message));
});

test("DMA: buffers are in simulated RAM; the CPU view is the device's view", () => {
  const model = createHostModel({ ramSize: 1 << 20, dmaSize: 1 << 16 });
  const b = model.platform.dma.alloc(64, 64);
  assert.is(b.phys % 64, 0);
  assert.ok(model.memory.contains(b.phys, 64));
  assert.ok(b.phys >= 0x40000000 + (1 << 20) - (1 << 16), "carved from the top of RAM");
  b.view.setUint32(0, 0xcafef00d, true);
  assert.is(model.memory.read32(b.phys), 0xcafef00d);
});

test("board: 32 virtio-mmio windows as on virt, RAM as configured", () => {
  const model = createHostModel();
  const w = model.platform.board.virtioMmio;
  assert.is(w.length, 32);
  assert.equal(w[31], { slot: 31, base: 0x0a003e00, size: 0x200, irq: 79 });
  assert.equal(model.platform.board.ram, { base: 0x40000000, size: 16 * 1024 * 1024 });
  assert.is(model.platform.name, "node-host");
});

test("barriers are counted", () => {
  const model = createHostModel();
  model.platform.barriers.mb();
  model.platform.barriers.wmb();
  model.platform.barriers.wmb();
  assert.equal(model.barrierCounts, { mb: 1, rmb: 0, wmb: 2 });
});

test("irq: delivered from the event loop, masked until eoi, coalesced while pending", async () => {
  const model = createHostModel();
  const calls: number[] = [];
  model.platform.irq.attach(50, (line) => {
    calls.push(line);
    model.interrupts.raise(50); // fires again while in service: delivered after eoi
  });
  model.platform.irq.enable(50);
  model.interrupts.raise(50);
  model.interrupts.raise(50);
  assert.equal(calls, [], "never synchronous");
  await new Promise((r) => setImmediate(r));
  assert.equal(calls, [50], "two raises before delivery coalesce");
  model.platform.irq.detach(50);
  await model.settle();
  assert.equal(calls, [50]);
  assert.ok(model.interrupts.isPending(50));
});

test("irq: a disabled line stays pending until enabled", async () => {
  const model = createHostModel();
  let n = 0;
  model.platform.irq.attach(60, () => n++);
  model.interrupts.raise(60);
  await model.settle();
  assert.is(n, 0);
  model.platform.irq.enable(60);
  await model.settle();
  assert.is(n, 1);
  model.platform.irq.disable(60);
  model.interrupts.raise(60);
  await model.settle();
  assert.is(n, 1);
});

test("irq: a throwing handler is recorded, the line still gets its eoi", async () => {
  const model = createHostModel();
  let n = 0;
  model.platform.irq.attach(61, () => {
    n++;
    throw new Error("boom");
  });
  model.platform.irq.enable(61);
  model.interrupts.raise(61);
  await model.settle();
  model.interrupts.raise(61);
  await model.settle();
  assert.is(n, 2);
  assert.equal(model.violationRules(), ["exception-escaped", "exception-escaped"]);
  assert.throws(() => model.assertNoViolations(), /boom/);
});

test("console: output collects, typed input arrives asynchronously", async () => {
  const model = createHostModel();
  const con = model.platform.console;
  con.write("hello ");
  con.write(new TextEncoder().encode("world"));
  assert.is(model.console.takeOutput(), "hello world");
  assert.is(model.console.output, "");
  model.console.type("early");
  const got: string[] = [];
  con.onReceive = (data) => got.push(new TextDecoder().decode(data));
  model.console.type("ls\r");
  assert.equal(got, []);
  await model.settle();
  assert.equal(got, ["early", "ls\r"]);
});

test("timers: set, repeat, clear", async () => {
  const model = createHostModel();
  const t = model.platform.timers;
  const fired: string[] = [];
  t.set(() => fired.push("once"), 1);
  const rep = t.repeat(() => {
    fired.push("rep");
    if (fired.filter((f) => f === "rep").length === 3) t.clear(rep);
  }, 1);
  const never = t.set(() => fired.push("never"), 1);
  t.clear(never);
  t.clear(12345);
  // Wait for the timers (bounded; the machine may be loaded, so no fixed sleep).
  const until = Date.now() + 3000;
  while (model.timers.active > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
  assert.equal(fired.filter((f) => f === "once").length, 1);
  assert.is(fired.filter((f) => f === "rep").length, 3);
  assert.not.ok(fired.includes("never"));
  assert.is(model.timers.active, 0);
});

test("clock: monotonic milliseconds", async () => {
  const model = createHostModel();
  const a = model.platform.clock.now();
  await new Promise((r) => setTimeout(r, 5));
  const b = model.platform.clock.now();
  assert.ok(b > a && b - a >= 4);
});

test("engineStats and powerOff", () => {
  let off = 0;
  const model = createHostModel({ onPowerOff: () => off++ });
  assert.ok(model.platform.engineStats().heapUsed! > 0);
  model.platform.timers.set(() => {}, 10_000);
  model.platform.powerOff();
  assert.ok(model.poweredOff);
  assert.is(off, 1);
  assert.is(model.timers.active, 0);
});

test("attach: bad slot, taken slot and bad version are usage errors", () => {
  const model = createHostModel();
  model.attach(0, new RngDevice(), { version: 2 });
  assert.throws(() => model.attach(0, new RngDevice(), { version: 2 }), /already/);
  assert.throws(() => model.attach(32, new RngDevice(), { version: 2 }), /slot 32/);
  assert.throws(() => model.attach(1, new RngDevice(), { version: 3 as 2 }), /version/);
});

test.run();
