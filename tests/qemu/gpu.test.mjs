// virtio-gpu 2D on QEMU (`-device virtio-gpu-device`): `gpu info` reports QEMU's scanout,
// `gpu test` draws the pattern, QMP `screendump` ("format": "png", with -display none)
// captures it, and the decoded PNG shows the colour bars where the pattern puts them.
// Legacy virtio-mmio through the HIL board; modern through `npm start -- --screenshot`,
// exactly as the README shows it; and virtio-gpu-pci (modern, MSI-X) the same way.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withBoard } from "virtio-xs/hil";
import { decodePng } from "../../tools/lib/png.mjs";
import { ROOT, jsonLine } from "./lib/firmware.mjs";

const dir = mkdtempSync(join(tmpdir(), "virtio-gpu-test-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// The pattern's geometry, as drivers/gpu/test-pattern.ts draws it.
const BARS = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000];
const BAND = 0x202020;
const hex = (c) => `0x${c.toString(16).padStart(6, "0")}`;

/** Checks the middle of every bar (three heights), and the band's left edge. */
function checkPattern(png, width, height) {
  assert.is(png.width, width, "screendump width");
  assert.is(png.height, height, "screendump height");
  const bottom = Math.floor((height * 2) / 3);
  for (let i = 0; i < BARS.length; i++) {
    const x = Math.floor((Math.floor((i * width) / 8) + Math.floor(((i + 1) * width) / 8)) / 2);
    for (const y of [2, bottom >> 1, bottom - 3]) {
      assert.is(hex(png.rgb(x, y)), hex(BARS[i]), `bar ${i} at (${x}, ${y})`);
    }
  }
  assert.is(hex(png.rgb(1, height - 2)), hex(BAND), "the band below the bars");
  // The text: some white pixels in its line.
  const scale = Math.max(1, Math.floor(height / 200));
  let white = 0;
  for (let y = bottom + 4 * scale; y < bottom + 11 * scale; y++) for (let x = 0; x < width / 2; x++) if (png.rgb(x, y) === 0xffffff) white++;
  assert.ok(white > 50, `text drawn (${white} white pixels)`);
}

test("legacy: gpu info, gpu test, QMP screendump: the PNG shows the colour bars", async () => {
  await withBoard({ legacy: true, devices: ["virtio-gpu-device"], commandTimeoutMs: 60000 }, async (board) => {
    const info = jsonLine((await board.run("gpu info --json", { check: true })).output);
    assert.ok(info.scanouts.length >= 1, JSON.stringify(info));
    const { width, height } = info.scanouts[0];
    assert.ok(width > 0 && height > 0);
    const r = await board.run("gpu test 1", { check: true });
    console.log(`  ${r.output.trim()}`);
    const file = join(dir, "legacy.png");
    await board.qmp("screendump", { filename: file, format: "png" });
    checkPattern(decodePng(readFileSync(file)), width, height);
    const after = jsonLine((await board.run("gpu info --json", { check: true })).output);
    assert.is(after.broken, null);
    assert.is(after.stats.errors, 0);
  });
});

test("modern: npm start -- --no-defaults --device virtio-gpu-device --run 'gpu test' --screenshot FILE", () => {
  const file = join(dir, "modern.png");
  const r = spawnSync(process.execPath, [join(ROOT, "tools/start.mjs"), "--no-defaults", "--device", "virtio-gpu-device", "--run", "gpu test 1", "--screenshot", file, "--no-build", "--timeout", "120"], { cwd: ROOT, encoding: "utf8" });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /gpu test: \d+x\d+/);
  const [, w, h] = /gpu test: (\d+)x(\d+)/.exec(r.stdout);
  checkPattern(decodePng(readFileSync(file)), Number(w), Number(h));
});

test("virtio-gpu-pci: npm start -- --no-defaults --device virtio-gpu-pci --run 'gpu test' --screenshot FILE", () => {
  const file = join(dir, "pci.png");
  const r = spawnSync(process.execPath, [join(ROOT, "tools/start.mjs"), "--no-defaults", "--device", "virtio-gpu-pci", "--run", "devices --json", "--run", "gpu test 1", "--screenshot", file, "--no-build", "--timeout", "120"], { cwd: ROOT, encoding: "utf8" });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const gpu = jsonLine(r.stdout).find((d) => d.type === "gpu");
  assert.equal([gpu?.transport, gpu?.mode, gpu?.status], ["pci", "pci modern", "DRIVER_OK"], r.stdout);
  const [, w, h] = /gpu test: (\d+)x(\d+)/.exec(r.stdout) ?? [];
  assert.ok(w, r.stdout);
  checkPattern(decodePng(readFileSync(file)), Number(w), Number(h));
});

test.run();
