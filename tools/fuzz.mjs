#!/usr/bin/env node
// `npm run fuzz`: the hostile-device fuzzer (tests/fuzz/) and the power-cut runs.
//   --steps N          steps of the hostile-device campaign (default 100000)
//   --seed S           campaign seed (default 1); the same seed gives the same cases
//   --devices a,b      blk,rng,net,console,input (default all)
//   --transport T      modern, legacy or both (default both)
//   --replay JSON      runs one case (as a finding prints it) and shows its findings
//   --host-power-cuts N  power cuts on the host model's writeback disk (default 10000)
//   --power-cuts N     power cuts of QEMU (SIGKILL) with the firmware writing (default 0)
// With any of --steps, --host-power-cuts, --power-cuts given, only those run.
// Ends with status 1 if anything was found.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, ensureNodeModules } from "./lib/node-deps.mjs";

function usage(message) {
  if (message) console.error(`fuzz: ${message}`);
  console.error("usage: npm run fuzz -- [--steps N] [--seed S] [--devices blk,rng,net,console,input] [--transport modern|legacy|both] [--replay JSON] [--host-power-cuts N] [--power-cuts N]");
  process.exit(2);
}

function parse(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    const count = () => {
      const v = value().replace(/_/g, "");
      if (!/^\d+$/.test(v)) usage(`${a} takes a non-negative integer, not "${v}"`);
      return Number(v);
    };
    switch (a) {
      case "--steps": o.steps = count(); break;
      case "--seed": o.seed = count(); break;
      case "--devices": o.devices = value().split(",").map((s) => s.trim()).filter(Boolean); break;
      case "--transport": o.transport = value(); break;
      case "--replay": o.replay = value(); break;
      case "--host-power-cuts": o.hostPowerCuts = count(); break;
      case "--power-cuts": o.powerCuts = count(); break;
      case "--help": case "-h": usage(); break;
      default: usage(`unknown option ${a}`);
    }
  }
  return o;
}

const opts = parse(process.argv.slice(2));
const only = opts.steps !== undefined || opts.hostPowerCuts !== undefined || opts.powerCuts !== undefined;
const steps = opts.steps ?? (only ? 0 : 100_000);
const hostPowerCuts = opts.hostPowerCuts ?? (only || !existsSync(join(ROOT, "tests/fuzz/power-cut.ts")) ? 0 : 10_000);
const powerCuts = opts.powerCuts ?? 0;
const versions = { modern: [2], legacy: [1], both: [1, 2], undefined: [1, 2] }[String(opts.transport)];
if (!versions) usage(`--transport ${opts.transport}: modern, legacy or both`);

ensureNodeModules();
console.log("[fuzz] compiling TypeScript (tsc)");
const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: ROOT, stdio: "inherit" });
if (tsc.status !== 0) process.exit(1);
const load = (file) => import(pathToFileURL(join(ROOT, "build/ts/tests/fuzz", file)).href);
// A collection on demand, so that the campaign's heap figures are what is live.
v8.setFlagsFromString("--expose-gc");
globalThis.gc ??= runInNewContext("gc");

let found = 0;

if (opts.replay !== undefined) {
  const { runCase } = await load("engine.js");
  const { targetFor, describeSteps } = await load("campaign.js");
  const { readFileSync } = await import("node:fs");
  const spec = JSON.parse(existsSync(opts.replay) ? readFileSync(opts.replay, "utf8") : opts.replay);
  console.log(`[fuzz] replaying ${spec.kind} v${spec.version} seed ${spec.seed}, ${spec.steps.length} steps: ${describeSteps(spec.steps)}`);
  const findings = await runCase(spec, targetFor(spec.kind));
  for (const f of findings) console.log(`[fuzz] ${f.kind} at step ${f.step}: ${f.message}`);
  console.log(`[fuzz] ${findings.length} finding(s)`);
  process.exit(findings.length === 0 ? 0 : 1);
}

if (steps > 0) {
  const { runCampaign, availableDevices } = await load("campaign.js");
  const devices = opts.devices ?? availableDevices();
  for (const d of devices) if (!availableDevices().includes(d)) usage(`--devices: no fuzz target "${d}" (have ${availableDevices().join(", ")})`);
  const seed = opts.seed ?? 1;
  console.log(`[fuzz] hostile-device campaign: ${steps} steps, seed ${seed}, devices ${devices.join(",")}, transport ${versions.map((v) => (v === 2 ? "modern" : "legacy")).join("+")}`);
  const r = await runCampaign({ steps, seed, devices, versions, log: (line) => console.log(line) });
  const rate = r.steps / (r.ms / 1000);
  const versionName = (v) => (v === 2 ? "modern" : "legacy");
  // Coverage: steps run on every device in every transport version asked for.
  const pairs = devices.flatMap((d) => versions.map((v) => [`${d} ${versionName(v)}`, r.perDevice[`${d} v${v}`] ?? 0]));
  const missing = pairs.filter(([, n]) => n === 0).map(([name]) => name);
  console.log(`[fuzz] done: ${r.steps} steps in ${r.cases} cases, ${(r.ms / 1000).toFixed(1)} s, ${rate.toFixed(0)} steps/s`);
  console.log(`[fuzz] steps per device and transport (virtio-mmio legacy v1, modern v2): ${pairs.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  console.log(`[fuzz] heap after a collection: ${(r.heapStart / 1048576).toFixed(1)} MB at the start, ${(r.heapEnd / 1048576).toFixed(1)} MB at the end`);
  const coverage = missing.length === 0 ? `${devices.length} device(s) x ${versions.length} transport version(s) all covered` : `NOT covered: ${missing.join(", ")} (more --steps)`;
  console.log(`[fuzz] result: ${r.steps} steps, ${rate.toFixed(0)} steps/s, ${devices.join("/")} on ${versions.map(versionName).join("+")}: ${coverage}; finding classes: ${r.classes.length === 0 ? "none" : r.classes.map((c) => `${c.kind} (${c.device}) x${c.count}`).join(", ")}`);
  for (const c of r.classes) {
    console.log(`[fuzz] FINDING ${c.kind} (${c.device}) x${c.count}: ${c.first.message}`);
    console.log(`[fuzz]   first in ${c.spec.kind} v${c.spec.version} seed ${c.spec.seed} at step ${c.first.step}; cut to ${c.minimal.steps.length} step(s)`);
    console.log(`[fuzz]   reproduce: npm run fuzz -- --replay '${JSON.stringify(c.minimal)}'`);
  }
  found += r.classes.length;
}

if (hostPowerCuts > 0) {
  const { runHostPowerCuts } = await load("power-cut.js");
  const r = await runHostPowerCuts({ cycles: hostPowerCuts, seed: opts.seed ?? 1, log: (line) => console.log(line) });
  console.log(`[fuzz] host power cuts: ${r.cycles} cycles (${r.flashCycles} through the flash API, ${r.flashClosedWrites} writes made durable by close() alone), ${r.acknowledged} acknowledged writes checked, ${r.lost} lost, ${r.corrupt} corrupt, ${(r.ms / 1000).toFixed(1)} s`);
  for (const p of r.problems) console.log(`[fuzz]   ${p}`);
  if (r.lost + r.corrupt > 0) found++;
}

if (powerCuts > 0) {
  console.log("[fuzz] building the firmware (npm run build)");
  const build = spawnSync(process.execPath, [join(ROOT, "tools/build.mjs")], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
  const { runQemuPowerCuts } = await import(pathToFileURL(join(ROOT, "tests/qemu/power-cut-lib.mjs")).href);
  const r = await runQemuPowerCuts({ cycles: powerCuts, seed: opts.seed ?? 1, log: (line) => console.log(line) });
  console.log(`[fuzz] QEMU power cuts: ${r.cycles} cycles, ${r.writesSeen} writes reported, ${r.acknowledged} acknowledged by a completed flush and checked, ${r.lost} lost, ${r.corrupt} corrupt, ${(r.ms / 1000).toFixed(1)} s`);
  for (const p of r.problems) console.log(`[fuzz]   ${p}`);
  if (r.lost + r.corrupt > 0) found++;
}

process.exit(found === 0 ? 0 : 1);
