#!/usr/bin/env node
// `npm run bench`: our virtio-blk driver side by side with U-Boot's and Linux's on the
// same QEMU, machine and disk image (64 MiB of deterministic pseudo-random bytes,
// checkable per 4 KiB block), in modern and legacy virtio-mmio (or, with `--transport
// pci`, virtio-blk-pci modern and legacy). Every figure is a median of the runs with min
// and max; every read is checked. See bench/README.md.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem, loadavg } from "node:os";
import { join } from "node:path";
import { ROOT } from "./lib/firmware-build.mjs";
import { ensureNodeModules } from "./lib/node-deps.mjs";
import { buildFirmwareIfNeeded } from "./lib/qemu-prepare.mjs";
import { ensureSystemDeps } from "./lib/system-deps.mjs";
import { qemuVersion } from "./lib/qemu.mjs";
import { ensureBenchImage } from "./lib/bench-image.mjs";
import { Samples, ratio } from "./lib/bench-stats.mjs";
import { runOurs } from "./lib/bench-ours.mjs";
import { reportMarkdown, methodLines, targetRows } from "./lib/bench-report.mjs";
import { checkTargets } from "./lib/bench-targets.mjs";
import { armhfDependency, fetchPackages } from "./lib/bench-fetch.mjs";
import { runUboot } from "./lib/peers/uboot.mjs";
import { linuxUnsupported, prepareLinux, runLinux } from "./lib/peers/linux.mjs";

const HELP = `npm run bench [-- options]
  --quick            one short pass of each workload (1 run, fewer requests)
  --runs N           runs per figure (default 5)
  --workloads LIST   comma list of seq,qd1,qd32,write,ready (default all)
  --peers LIST       comma list of ours,uboot,linux (default all)
  --modes LIST       modern,legacy (default both)
  --transport T      mmio (default: virtio-blk-device) or pci (virtio-blk-pci with
                     disable-legacy=on for modern, disable-modern=on for legacy)
  --json FILE        write the report there (default build/bench/report.json,
                     report-pci.json with --transport pci)
  --help`;

/**
 * How each mode's two disks reach the guests: `legacy` is QEMU's virtio-mmio version
 * (the board's force-legacy option), `pci` the virtio-blk-pci properties (qemu-board.mjs
 * deviceArgs): the same for ours, U-Boot and Linux.
 */
const TRANSPORTS = {
  mmio: { modern: { legacy: false, pci: false }, legacy: { legacy: true, pci: false } },
  // Modern-only (1af4:1042) and legacy-only devices: neither guest can pick the other mode.
  pci: { modern: { legacy: false, pci: "disable-legacy=on" }, legacy: { legacy: false, pci: "disable-modern=on,disable-legacy=off" } },
};

function parseArgs(argv) {
  const o = { quick: false, runs: 5, workloads: ["seq", "qd1", "qd32", "write", "ready"], peers: ["ours", "uboot", "linux"], modes: ["modern", "legacy"], transport: "mmio", json: null };
  for (let i = 0; i < argv.length; i++) {
    let [k, v] = argv[i].split("=", 2);
    const val = () => v ?? argv[++i];
    if (k === "--quick") o.quick = true;
    else if (k === "--runs") o.runs = Number(val());
    else if (k === "--workloads") o.workloads = val().split(",");
    else if (k === "--peers") o.peers = val().split(",");
    else if (k === "--modes") o.modes = val().split(",");
    else if (k === "--transport") o.transport = val();
    else if (k === "--json") o.json = val();
    else if (k === "--help" || k === "-h") { console.log(HELP); process.exit(0); }
    else { console.error(`unknown option ${argv[i]}\n${HELP}`); process.exit(2); }
  }
  if (o.quick && !argv.some((a) => a.startsWith("--runs"))) o.runs = 1;
  if (!(o.runs >= 1)) { console.error("--runs must be >= 1"); process.exit(2); }
  const badMode = o.modes.find((m) => m !== "modern" && m !== "legacy");
  if (badMode !== undefined) { console.error(`--modes: ${badMode} is neither modern nor legacy`); process.exit(2); }
  if (!Object.hasOwn(TRANSPORTS, o.transport)) { console.error(`--transport must be mmio or pci, not ${o.transport}`); process.exit(2); }
  o.json ??= join(ROOT, "build", "bench", o.transport === "mmio" ? "report.json" : `report-${o.transport}.json`);
  return o;
}

const o = parseArgs(process.argv.slice(2));
const started = performance.now();
const loadavgStart = loadavg().map((x) => x.toFixed(2));
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;
const log = (s) => console.error(`[bench ${elapsed()}] ${s}`);
const has = (w) => o.workloads.includes(w);
// The same -m for all three guests (QEMU's default placement of the DTB, RAM at 0x40000000).
const MEMORY = "128M";
// Sequential: the whole 64 MiB disk into one region, PASSES times into the same memory per
// boot (the first pass reported apart as *_first). Ours: requests as large as our blk
// driver sends from DMA memory (`max`: 4 MiB today), DEPTH in flight; Linux: preads of the
// size ours reported (4096 KiB when ours is not run), DEPTH in flight; U-Boot sends one
// 64 MiB request.
const SEQ = { reqKiB: "max", linuxReqKiB: 4096, depth: 4, passes: o.quick ? 2 : 4 };
const work = {
  seq: has("seq") ? SEQ : null, qd1: has("qd1"), qd32: has("qd32"), writes: has("write"),
  counts: o.quick ? { qd1: 250, qd32: 500, w1: 100, w32: 250, uboot: 250, linux1: 250, linux32: 500 }
    : { qd1: 1000, qd32: 2000, w1: 400, w32: 1000, uboot: 1000, linux1: 1000, linux32: 2000 },
};
const SEED = 1;

const deps = ensureSystemDeps({ quiet: true });
if (!deps.ok) { console.error(deps.reason); process.exit(5); }
const cache = join(ROOT, ".cache", "bench");
log("bench image (64 MiB, made once)");
const image = ensureBenchImage(join(cache, "disk.img"));
image.data ??= new Uint8Array(readFileSync(image.path));
const scratch = join(cache, "scratch.img");

let elf = null;
if (o.peers.includes("ours")) {
  ensureNodeModules(); // a fresh clone: esbuild and tsc build the firmware's bundle
  log("firmware build (incremental)");
  const fw = await buildFirmwareIfNeeded({ quiet: true });
  if (!fw.ok) { console.error(fw.reason); process.exit(5); }
  elf = fw.elf;
}
const peers = { uboot: null, linux: null };
const skipped = {};
const peerCache = join(cache, "peers");
if (o.peers.includes("uboot")) {
  try {
    peers.uboot = fetchPackages({ cache: peerCache, dirName: "uboot", names: ["u-boot-qemu"], log });
  } catch (e) { skipped.uboot = e.message; log(`U-Boot skipped: ${e.message}`); }
}
if (o.peers.includes("linux")) {
  try {
    const kernel = armhfDependency({ cache: peerCache, meta: "linux-image-armmp", prefix: "linux-image-6", log });
    const root = fetchPackages({ cache: peerCache, dirName: "linux", names: [kernel, "busybox-static"], arch: "armhf", log });
    peers.linux = await prepareLinux({ root, cache, transport: o.transport, log });
  } catch (e) { skipped.linux = e.message; log(`Linux skipped: ${e.message}`); }
}

const samples = { ours: new Samples(), uboot: new Samples(), linux: new Samples() };
const failures = [];
// Peer and mode pairs that cannot run on this transport (the peer's own limit, stated in
// the report; not a failure of the run).
const notRun = {};
for (let run = 1; run <= o.runs; run++) {
  for (const mode of o.modes) {
    const suffix = mode === "legacy" ? "_legacy" : "";
    const { legacy, pci } = TRANSPORTS[o.transport][mode];
    const common = { image, legacy, pci, memory: MEMORY, work, suffix, seed: SEED + run - 1, log };
    log(`run ${run}/${o.runs}, ${mode} ${o.transport} (load average ${loadavg().map((x) => x.toFixed(2)).join(" ")})`);
    const attempt = async (name, fn) => {
      try { await fn(); } catch (e) { failures.push(`${name}${suffix} run ${run}: ${e.message.split("\n")[0]}`); log(`${name}${suffix} FAILED: ${e.message.split("\n").slice(0, 3).join(" | ")}${e.output ? `\n  guest printed meanwhile: ${JSON.stringify(String(e.output).slice(-400))}` : ""}`); }
    };
    if (elf) {
      copyFileSync(image.path, scratch);
      await attempt("ours", () => runOurs({ ...common, elf, scratch, samples: samples.ours }));
    }
    if (peers.uboot) await attempt("uboot", () => runUboot({ ...common, root: peers.uboot, samples: samples.uboot, cache }));
    const linuxCannot = linuxUnsupported(o.transport, mode);
    if (peers.linux && linuxCannot !== null) {
      if (run === 1) log(`linux${suffix} not run: ${linuxCannot}`);
      notRun[`linux${suffix}`] = linuxCannot;
    } else if (peers.linux) {
      copyFileSync(image.path, scratch);
      await attempt("linux", () => runLinux({ ...common, linux: peers.linux, scratch, samples: samples.linux }));
    }
  }
}

const report = { ours: samples.ours.figures(), uboot: samples.uboot.figures(), linux: samples.linux.figures(), ratios: {} };
const fwSize = elf ? firmwareSize(elf) : null;
if (fwSize !== null) report.ours.firmware_bytes = { median: fwSize, min: fwSize, max: fwSize, n: 1 };
for (const peer of ["uboot", "linux"]) {
  const r = {};
  for (const [k, v] of Object.entries(report.ours)) {
    const x = ratio(v, report[peer][k]);
    if (x !== null) r[k] = x;
  }
  report.ratios[peer] = r;
}
// The issue's targets, as ratios from this run, and whether each is met.
report.targets = {};
for (const mode of o.modes) {
  const list = checkTargets(report, mode === "legacy" ? "_legacy" : "");
  report.targets[mode] = list;
  report.ratios[`targets_${mode}`] = Object.fromEntries(list.map((t) => [t.id, t.value]));
}
report.meta = {
  date: new Date().toISOString(), qemu: qemuVersion(), machine: `qemu-system-arm -M virt -cpu cortex-a15 -m ${MEMORY}`, seq: work.seq,
  transport: o.transport, devices: Object.fromEntries(o.modes.map((mode) => [mode, deviceText(TRANSPORTS[o.transport][mode])])),
  loadavgStart,
  host: `${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`, loadavg: loadavg().map((x) => x.toFixed(2)),
  runs: o.runs, quick: o.quick, counts: work.counts, image: { bytes: image.bytes, crc32: image.crc32 },
  skipped, notRun, failures, seconds: Math.round((performance.now() - started) / 1000),
};
mkdirSync(join(o.json, ".."), { recursive: true });
writeFileSync(o.json, JSON.stringify(report, null, 2) + "\n");
writeFileSync(o.json.replace(/\.json$/, "") + ".md", reportMarkdown(report));
printTable(report);
log(`report written to ${o.json} (and the table as .md beside it)`);
process.exit(failures.length === 0 && Object.keys(skipped).length === 0 ? 0 : 1);

/** The QEMU device of a mode's disks, as the report states it. */
function deviceText({ legacy, pci }) {
  if (pci) return `virtio-blk-pci,${pci}`;
  return `virtio-blk-device, -global virtio-mmio.force-legacy=${legacy}`;
}

function firmwareSize(path) {
  try { return readFileSync(path).length; } catch { return null; }
}

function printTable(rep) {
  const keys = [...new Set([...Object.keys(rep.ours), ...Object.keys(rep.uboot), ...Object.keys(rep.linux)])].sort();
  const cell = (f) => (f ? `${fmt(f.median)} [${fmt(f.min)}-${fmt(f.max)}]` : "-");
  const rows = [["figure (median [min-max])", "ours", "uboot", "linux", "ours/uboot", "ours/linux"]];
  for (const k of keys) rows.push([k, cell(rep.ours[k]), cell(rep.uboot[k]), cell(rep.linux[k]), String(rep.ratios.uboot[k] ?? "-"), String(rep.ratios.linux[k] ?? "-")]);
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd());
  console.log("");
  for (const line of methodLines(rep)) console.log(line);
  for (const [mode, list] of Object.entries(rep.targets)) {
    console.log(`\nTARGETS (${mode})`);
    const t = [["target", "value", "goal", "verdict", ""], ...targetRows(list)];
    const tw = t[0].map((_, i) => Math.max(...t.map((r) => r[i].length)));
    for (const r of t) console.log(r.map((c, i) => c.padEnd(tw[i])).join("  ").trimEnd());
  }
  if (rep.meta.failures.length) console.log(`FAILURES:\n  ${rep.meta.failures.join("\n  ")}`);
  for (const [k, v] of Object.entries(rep.meta.skipped)) console.log(`SKIPPED ${k}: ${v}`);
  for (const [k, v] of Object.entries(rep.meta.notRun)) console.log(`NOT RUN ${k}: ${v}`);
  console.log(`${rep.meta.date}  QEMU ${rep.meta.qemu}  ${rep.meta.machine}  transport ${rep.meta.transport}  host ${rep.meta.host}  load ${rep.meta.loadavgStart.join(" ")} at the start, ${rep.meta.loadavg.join(" ")} at the end  ${rep.meta.seconds}s`);
}

function fmt(x) {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(4);
}
