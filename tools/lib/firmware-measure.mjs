#!/usr/bin/env node
// Boot-time measurement for boards/qemu-virt-arm/README.md: starts QEMU N times on the
// built firmware and reports, per run and as medians, the wall time from spawning QEMU to
// the first console line (the C banner), to the first line JavaScript printed, and to a
// prompt if one appears, each as median (min-max). Also prints the ELF's section sizes and
// the host's load average (wall times under TCG grow with it).
//   node tools/lib/firmware-measure.mjs [--board B] [--runs 7] [--prompt "virtio> "] [--elf FILE]
import { spawn, spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { boardFirmware, readManifest, ROOT } from "./firmware-build.mjs";
import { DEFAULT_BOARD } from "./qemu-board.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt("--runs", 7));
const prompt = opt("--prompt", "virtio> ");
const board = opt("--board", DEFAULT_BOARD);
const elf = opt("--elf", join(ROOT, "build/fw", board, "firmware.elf"));
const { boardJson } = readManifest(board);

function bootOnce() {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
    const q = spawn(boardJson.qemu.binary, [...boardJson.qemu.args.filter((a) => a !== "-nographic"), "-display", "none", "-serial", "stdio", "-monitor", "none", "-kernel", elf], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    const r = { firstLine: NaN, firstJsLine: NaN, prompt: NaN };
    const done = () => {
      q.kill("SIGKILL");
      resolve(r);
    };
    const timer = setTimeout(done, 10000);
    q.stdout.on("data", (b) => {
      out += b.toString("latin1");
      const lines = out.split("\r\n").filter((l) => l.trim());
      const complete = out.endsWith("\r\n") ? lines.length : lines.length - 1;
      if (Number.isNaN(r.firstLine) && complete >= 1) r.firstLine = ms();
      if (Number.isNaN(r.firstJsLine) && complete >= 2) r.firstJsLine = ms();
      if (Number.isNaN(r.prompt) && out.includes(prompt)) {
        r.prompt = ms();
        clearTimeout(timer);
        done();
      }
    });
    q.on("exit", () => {
      clearTimeout(timer);
      resolve(r);
    });
  });
}

/** "median (min-max), n of runs" over the runs that reached the mark. */
const summary = (xs) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return "not reached";
  const f = (x) => x.toFixed(1);
  return `${f(s[Math.floor((s.length - 1) / 2)])} ms (${f(s[0])}-${f(s[s.length - 1])}), ${s.length} of ${xs.length} runs`;
};

const size = spawnSync(boardFirmware(boardJson).cross + "size", [elf], { encoding: "utf8" });
console.log(size.stdout.trim());
const results = [];
for (let i = 0; i < runs; i++) {
  const r = await bootOnce();
  results.push(r);
  console.log(`run ${i + 1}: first line ${r.firstLine.toFixed(1)} ms, first JS line ${r.firstJsLine.toFixed(1)} ms, prompt ${r.prompt.toFixed(1)} ms`);
}
for (const k of ["firstLine", "firstJsLine", "prompt"]) console.log(`median ${k}: ${summary(results.map((r) => r[k]))}`);
console.log(`host load average (1/5/15 min): ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
