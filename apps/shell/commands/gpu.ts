// `gpu info [--json]`: the virtio GPU's scanouts, EDID and counters; `gpu test [SECONDS]`:
// draws the test pattern (colour bars, the board name, a square moving for SECONDS,
// default 3, with the hardware cursor following it) on scanout 0 and leaves it shown
// (VIRTIO 1.2 §5.7).

import type { GpuDevice } from "../../../drivers/gpu/gpu-device.js";
import type { GpuDriver } from "../../../drivers/gpu/gpu-driver.js";
import { GpuCursor } from "../../../drivers/gpu/gpu-cursor.js";
import { GpuDisplay } from "../../../drivers/gpu/gpu-display.js";
import { drawTestPattern, moveSquare, squareTrack, squareX } from "../../../drivers/gpu/test-pattern.js";
import { UsageError, type Command, type CommandIO } from "../command.js";
import { bytes } from "../format.js";

export type GpuSource = Pick<GpuDriver, "devices">;

/** The display and cursor `gpu test` left on screen (closed by the next `gpu test`). */
let shown: GpuDisplay | null = null;
let pointer: GpuCursor | null = null;

/** A 64x64 cursor image: a white arrow with a black edge (0xAARRGGBB), hot spot 0,0. */
function arrow(): Uint32Array {
  const px = new Uint32Array(64 * 64);
  for (let y = 0; y < 24; y++) {
    for (let x = 0; x <= y / 2; x++) px[y * 64 + x] = x === 0 || x >= y / 2 - 1 || y === 23 ? 0xff000000 : 0xffffffff;
  }
  return px;
}

export function gpuCommand(driver: GpuSource): Command {
  return {
    name: "gpu",
    usage: "gpu info [--json] | gpu test [SECONDS]",
    summary: "virtio-gpu: scanouts and EDID; draw the test pattern (bars, board name, moving square)",
    async run(args, io) {
      const gpu = driver.devices()[0];
      if (args[0] !== "info" && args[0] !== "test") throw new UsageError("expected info or test");
      if (gpu === undefined) {
        io.print("no virtio-gpu device");
        return 1;
      }
      if (args[0] === "info") {
        const json = args[1] === "--json";
        if (args.length > (json ? 2 : 1)) throw new UsageError(`unexpected argument: ${args[json ? 2 : 1]}`);
        const scanouts = await gpu.displayInfo();
        const edid = gpu.edidSupported ? await gpu.edid(0) : null;
        const record = {
          location: gpu.location, numScanouts: gpu.numScanouts, edid: gpu.edidSupported,
          edidBytes: edid?.length ?? 0, scanouts: scanouts.filter((s) => s.enabled),
          broken: gpu.broken?.message ?? null, stats: gpu.stats(),
        };
        if (json) {
          io.print(JSON.stringify(record));
          return 0;
        }
        io.print(`gpu ${gpu.location}: ${gpu.numScanouts} scanout(s), EDID ${edid ? `${edid.length} bytes` : "not offered"}`);
        for (const s of record.scanouts) io.print(`  scanout ${s.index}: ${s.width}x${s.height} at ${s.x},${s.y}`);
        if (record.broken) io.print(`  broken: ${record.broken}`);
        const st = record.stats;
        io.print(`  commands ${st.commands}, cursor ${st.cursorCommands}, errors ${st.errors}, fences ${st.fences}, display events ${st.displayEvents}, sent ${bytes(st.transferredBytes)}`);
        return 0;
      }
      const seconds = args[1] === undefined ? 3 : Number(args[1]);
      if (args.length > 2 || !(seconds >= 0 && seconds <= 60)) throw new UsageError("SECONDS must be a number from 0 to 60");
      return testPattern(io, gpu, seconds);
    },
  };
}

async function testPattern(io: CommandIO, gpu: GpuDevice, seconds: number): Promise<number> {
  if (pointer !== null) await pointer.close().catch(() => undefined);
  if (shown !== null) await shown.close().catch(() => undefined);
  shown = null;
  pointer = null;
  const display = await GpuDisplay.open(gpu);
  shown = display;
  const cursor = await GpuCursor.open(gpu, arrow());
  pointer = cursor;
  const { clock, timers } = io.platform;
  const t0 = clock.now();
  await drawTestPattern(display, `virtio-xs ${io.platform.board.model}`);
  const drawn = clock.now() - t0;
  const sentBefore = gpu.stats().transferredBytes;
  let frames = 0;
  let x: number | null = null;
  const track = squareTrack(display.width, display.height);
  const start = clock.now();
  const end = start + seconds * 1000;
  while (!io.interrupted) {
    const now = clock.now();
    const nx = squareX(now - start, display.width, display.height);
    if (nx !== x) {
      moveSquare(display, x, nx);
      x = nx;
      await display.flush(); // only the square's old and new place
      if (frames === 0) await cursor.show(nx, track.y);
      else await cursor.move(nx, track.y); // the cursor follows the square
      frames++;
    }
    if (now >= end) break;
    await new Promise<void>((resolve) => timers.set(() => resolve(), 15));
  }
  const secs = (clock.now() - start) / 1000;
  const fps = secs > 0 ? (frames / secs).toFixed(1) : "-";
  io.print(`gpu test: ${display.width}x${display.height} ${display.pixelFormat}, pattern drawn and sent in ${drawn.toFixed(0)} ms; ${frames} square frames in ${secs.toFixed(1)} s (${fps} fps), ${bytes(gpu.stats().transferredBytes - sentBefore)} sent for them`);
  return 0;
}
