// The firmware's self-test entry: `node tools/build.mjs --entry platform/xs/selftest.ts`.
// Prints the board, the time and the engine's memory, runs a promise and timers, checks
// the DMA region and MMIO, and echoes console input (type `q` to power off).

import { createXsPlatform } from "./platform.js";

const platform = createXsPlatform();
const say = (text: string) => platform.console.write(`${text}\n`);
const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

const { board } = platform;
say(`selftest: board ${board.model}, RAM ${hex(board.ram.base)} + ${board.ram.size >> 20} MiB`);
for (const w of board.virtioMmio) {
  const magic = platform.mmio.read32(w.base);
  const deviceId = platform.mmio.read32(w.base + 8);
  if (deviceId !== 0 || w.slot === 0 || w.slot === board.virtioMmio.length - 1) {
    say(`selftest: virtio-mmio slot ${w.slot} at ${hex(w.base)} size ${hex(w.size)} irq ${w.irq}: magic ${hex(magic)} version ${platform.mmio.read32(w.base + 4)} device ${deviceId}`);
  }
}
say(`selftest: ${board.virtioMmio.length} virtio-mmio windows`);
say(`selftest: time ${platform.clock.now().toFixed(3)} ms`);

const buf = platform.dma.alloc(4096, 4096);
buf.view.setUint32(0, 0xdeadbeef, true);
say(`selftest: dma block at ${hex(buf.phys)} reads ${hex(buf.view.getUint32(0, true))}; pool ${JSON.stringify(platform.dma.stats())}`);
platform.dma.free(buf);

const stats = platform.engineStats();
say(`selftest: engine ${JSON.stringify(stats)}`);

async function run() {
  const v = await Promise.resolve(42);
  say(`selftest: promise resolved ${v} at ${platform.clock.now().toFixed(3)} ms`);
  const t0 = platform.clock.now();
  await new Promise<void>((resolve) => platform.timers.set(() => resolve(), 50));
  say(`selftest: timer 50 ms fired after ${(platform.clock.now() - t0).toFixed(3)} ms`);
  let ticks = 0;
  await new Promise<void>((resolve) => {
    const id = platform.timers.repeat(() => {
      if (++ticks === 3) {
        platform.timers.clear(id);
        resolve();
      }
    }, 10);
  });
  say(`selftest: repeat timer ticked ${ticks} times`);
  say("selftest: ready; type to echo, q to power off");
}

platform.console.onReceive = (data) => {
  for (const b of data) {
    if (b === 0x71) {
      say("\nselftest: power off");
      platform.powerOff();
    }
  }
  platform.console.write(data);
};

run().catch((e) => say(`selftest: failed: ${String(e)}`));
