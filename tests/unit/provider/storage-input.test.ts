// device.storage.flash (whole disks and MBR partitions), device.input, device.entropy,
// device.block and the `timer` module on the host model: the IO class rules (options
// checked first, close twice, methods after close, callbacks' counts) and what each does.

import { test } from "uvu";
import * as assert from "uvu/assert";
import device from "../../../apps/provider/builtin.js";
import Timer from "../../../apps/provider/timer.js";
import { FlashClosedError } from "../../../drivers/blk/flash-storage.js";
import { InputBusyError, InputClosedError } from "../../../drivers/input/errors.js";
import { mbrPartitions } from "../../../apps/provider/partitions.js";
import { finishProvider, providerRig } from "./provider-rig.js";

/** An MBR with partition 1 at sectors [64, 64 + 128). */
function writeMbr(image: Uint8Array): void {
  image.fill(0, 0, 512);
  const view = new DataView(image.buffer, image.byteOffset, 512);
  image[446 + 4] = 0x83;
  view.setUint32(446 + 8, 64, true);
  view.setUint32(446 + 12, 128, true);
  image[510] = 0x55;
  image[511] = 0xaa;
}

test("flash: blk0 synchronously; writes flushed; bad options first; close twice; methods after close", async () => {
  const r = await providerRig();
  assert.equal(device.storage.flash.paths(), ["blk0"]);
  assert.throws(() => device.storage.flash.open({ path: "sda" }), /must be "blk0"/);
  assert.throws(() => device.storage.flash.open({ path: "blk1" }), /no disk blk1/);
  assert.throws(() => device.storage.flash.open({ path: "blk0", mode: "w" as "r" }), /mode/);
  assert.throws(() => device.storage.flash.open({ path: "blk0p2" }), /no partition 2/);
  const flash = device.storage.flash.open({ path: "blk0", target: "t" });
  assert.is(flash.target, "t");
  assert.equal(flash.status(), { size: 256 * 512, blockLength: 4096, blocks: 32 });
  flash.eraseBlock(3);
  flash.write(Uint8Array.of(1, 2, 3), 3 * 4096 + 10);
  assert.equal([...new Uint8Array(flash.read(5, 3 * 4096 + 9))], [0xff, 1, 2, 3, 0xff]);
  assert.is(r.disk.counters.unflushedBytes, 0, "flushed by each write");
  flash.close();
  flash.close();
  assert.throws(() => flash.read(1, 0), (e: unknown) => e instanceof FlashClosedError);
  assert.is(device.block.devices().length, 1);
  await finishProvider(r);
});

test("flash: blk0p1 is the MBR's first partition, bounded by it", async () => {
  const r = await providerRig();
  writeMbr(r.disk.image);
  assert.equal(mbrPartitions(r.disk.image.subarray(0, 512), 256), [{ number: 1, type: 0x83, firstSector: 64, sectors: 128 }]);
  const part = device.storage.flash.open({ path: "blk0p1" });
  assert.equal(part.status(), { size: 128 * 512, blockLength: 4096, blocks: 16 });
  part.write(Uint8Array.of(9, 9), 0);
  assert.equal([...r.disk.image.subarray(64 * 512, 64 * 512 + 2)], [9, 9]);
  assert.throws(() => part.read(1, 128 * 512), RangeError);
  part.close();
  assert.equal(mbrPartitions(new Uint8Array(512), 256), [], "no signature: no partitions");
  await finishProvider(r);
});

test("input: port names, onEvent in order, one open at a time, close twice, methods after close", async () => {
  const r = await providerRig();
  assert.throws(() => new device.input.io({ port: "input7" }), /does not exist/);
  assert.throws(() => new device.input.io({ ...device.input.default, onEvent: 2 as never }), TypeError);
  const seen: string[] = [];
  const kbd = new device.input.io({
    ...device.input.default,
    onEvent(event) {
      assert.is(this, kbd);
      if (event.type === 1) seen.push(`${event.code}:${event.value}`);
    },
  });
  assert.throws(() => new device.input.io({ ...device.input.default }), (e: unknown) => e instanceof InputBusyError);
  r.keyboard.key(30, true);
  r.keyboard.key(30, false);
  await r.model.settle();
  assert.equal(seen, ["30:1", "30:0"]);
  kbd.close();
  kbd.close();
  assert.throws(() => kbd.read(), (e: unknown) => e instanceof InputClosedError);
  await finishProvider(r);
});

test("entropy: bytes from virtio-rng; bad counts rejected", async () => {
  const r = await providerRig();
  const bytes = await device.entropy.read(16);
  assert.instance(bytes, ArrayBuffer);
  assert.is(bytes.byteLength, 16);
  await device.entropy.read(0).then(() => assert.unreachable(), (e: unknown) => assert.instance(e, RangeError));
  await finishProvider(r);
});

test("timer: set, repeat, schedule, clear, delay; the callback gets its timer", async () => {
  const r = await providerRig();
  const fired: string[] = [];
  const once = Timer.set((t) => {
    assert.is(t, once);
    fired.push("once");
  }, 5);
  let ticks = 0;
  const tick = Timer.repeat((t) => {
    if (++ticks === 3) Timer.clear(t);
  }, 2);
  const later = Timer.set(() => fired.push("later"), 10_000);
  Timer.schedule(later, 1); // re-armed sooner
  const parked = Timer.set(() => fired.push("parked"), 1);
  Timer.schedule(parked); // unscheduled
  // Wait for what must happen (a loaded machine may take longer than the timers' periods),
  // then a little more so that a timer firing when it must not would show.
  const until = Date.now() + 5000;
  while ((ticks < 3 || fired.length < 2) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(fired.sort(), ["later", "once"]);
  assert.is(ticks, 3);
  Timer.clear(tick);
  Timer.clear(undefined);
  const t0 = r.model.platform.clock.now();
  Timer.delay(5);
  assert.ok(r.model.platform.clock.now() - t0 >= 5);
  assert.throws(() => Timer.set(() => {}, -1), RangeError);
  await finishProvider(r);
});

test.run();
