#!/usr/bin/env node
// `npm start`: installs what is missing, builds the firmware if needed, boots it on QEMU
// with a default set of virtio devices and connects the terminal to the shell
// (Ctrl-A X quits, as with QEMU's -nographic), or runs shell commands with --run.
// See tools/README.md; `npm start -- --help` prints the options.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ROOT, ensureNodeModules } from "./lib/node-deps.mjs";
import { ensureSystemDeps } from "./lib/system-deps.mjs";
import { buildFirmwareIfNeeded } from "./lib/qemu-prepare.mjs";
import { buildQemuCommand, checkBoard, DEFAULT_BOARD } from "./lib/qemu-board.mjs";
import { QemuMachine, QemuError, QemuFatalError, QemuTimeoutError } from "./lib/qemu.mjs";
import { ensureDemoDisk } from "./lib/disk-image.mjs";
import { buildApp } from "./lib/app-build.mjs";

const HELP = `usage: npm start -- [options]        (or: node tools/start.mjs [options])

Boots the virtio-xs firmware on QEMU (default board: qemu-system-arm -M virt -cpu cortex-a15) and connects this
terminal to its shell (prompt "virtio> "). Quit with Ctrl-A X (Ctrl-A H: QEMU's key help,
Ctrl-A C: QEMU monitor), or type \`poweroff\`.

options:
  --board B           the board (boards/B/board.json): qemu-virt-arm (default; env
                      VIRTIO_BOARD), qemu-virt-aarch64, ... (boards/README.md)
  --modern            modern virtio-mmio, transport version 2 (default)
  --legacy            QEMU's legacy virtio-mmio, transport version 1
  --no-defaults       no default devices (default: demo disk, rng, console, net, keyboard)
  --disk FILE         a virtio-blk device on that raw image (repeatable)
  --device SPEC       one QEMU -device value, e.g. virtio-rng-device or
                      virtio-rng-pci,vectors=0 (repeatable)
  --pci               the default devices and --disk as virtio-*-pci (PCIe bridge of virt)
  --pci-props PROPS   properties for those PCI devices, e.g. vectors=0 or
                      disable-modern=on,disable-legacy=off (legacy virtio-pci)
  --qemu "ARGS"       raw extra QEMU arguments (quotes group words)
  --run "CMD"         run a shell command, print its output (repeatable, in order), then
                      power off. Exit status: 0 all ok, 1 a command failed, 3 the firmware
                      printed FATAL or QEMU crashed, 4 timeout
  --screenshot FILE   with --run: after the commands, save the screen (QMP screendump,
                      PNG) to FILE, e.g. with --device virtio-gpu-device --run "gpu test"
  --timeout SECONDS   limit for the whole run (default 300 with --run, none otherwise)
  --app DIR           build and boot the application in DIR (a manifest.json and its
                      modules: README "Write your own app") instead of the shell firmware
  --hostfwd RULE      forward a host port to the default network device, e.g.
                      udp:127.0.0.1:5555-:7 (repeatable; QEMU's hostfwd syntax)
  --elf FILE          boot this firmware ELF instead of building
  --no-build          boot build/fw/<board>/firmware.elf as it is
  --verbose           show the QEMU command line; with --run also everything the UART prints
  --boot-times N      boot N times, print QEMU-start-to-prompt times (median, min, max)
  --gdb               interactive only: QEMU waits for a debugger on localhost:1234 (-s -S)
  --help              this text

--disk and --device keep their command-line order; virtio-mmio slots are filled from 31
downwards in that order (default devices first), PCI functions from 00:01.0 up; mmio and
PCI devices can be mixed.
Exit statuses: 2 bad option, 5 missing dependency or build failure.`;

/** Splits a string into words as a shell would for simple quoting ('...' and "..."). */
function splitWords(s) {
  const out = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m;
  let cur = null;
  let lastEnd = -1;
  while ((m = re.exec(s))) {
    const word = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2] ?? m[3];
    if (cur !== null && m.index === lastEnd) out[out.length - 1] += word; // a"b"c
    else out.push(word);
    cur = word;
    lastEnd = m.index + m[0].length;
  }
  return out;
}

function usage(msg) {
  console.error(`start: ${msg}\n(npm start -- --help for the options)`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { board: DEFAULT_BOARD, pci: false, pciProps: "", legacy: false, defaults: true, devices: [], qemu: [], run: [], screenshot: null, timeoutS: null, elf: null, app: null, hostfwd: [], build: true, verbose: false, help: false, bootTimes: 0, gdb: false };
  const value = (i, name) => {
    if (i + 1 >= argv.length) usage(`${name} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline = null;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) { inline = a.slice(eq + 1); a = a.slice(0, eq); }
    const take = (name) => { if (inline !== null) return inline; const v = value(i, name); i++; return v; };
    switch (a) {
      case "--board": o.board = take(a); break;
      case "--modern": o.legacy = false; break;
      case "--legacy": o.legacy = true; break;
      case "--no-defaults": o.defaults = false; break;
      case "--pci": o.pci = true; break;
      case "--pci-props": o.pciProps = take(a); o.pci = true; break;
      case "--disk": {
        const f = resolve(take(a));
        if (!existsSync(f)) usage(`--disk ${f}: no such file`);
        o.devices.push({ disk: f });
        break;
      }
      case "--device": o.devices.push(take(a)); break;
      case "--qemu": o.qemu.push(...splitWords(take(a))); break;
      case "--run": o.run.push(take(a)); break;
      case "--screenshot": o.screenshot = resolve(process.env.INIT_CWD ?? process.cwd(), take(a)); break;
      case "--timeout": {
        const t = Number(take(a));
        if (!(t > 0)) usage("--timeout needs a positive number of seconds");
        o.timeoutS = t;
        break;
      }
      case "--elf": o.elf = resolve(take(a)); o.build = false; break;
      case "--app": {
        // npm runs scripts in the package root: a relative DIR is the caller's (INIT_CWD).
        o.app = resolve(process.env.INIT_CWD ?? process.cwd(), take(a));
        if (!existsSync(join(o.app, "manifest.json"))) usage(`--app ${o.app}: no manifest.json there`);
        break;
      }
      case "--hostfwd": o.hostfwd.push(take(a)); break;
      case "--no-build": o.build = false; break;
      case "--verbose": o.verbose = true; break;
      case "--gdb": o.gdb = true; break;
      case "--boot-times": {
        const n = Number(take(a));
        if (!Number.isInteger(n) || n < 1) usage("--boot-times needs a positive integer");
        o.bootTimes = n;
        break;
      }
      case "--help": case "-h": o.help = true; break;
      default: usage(`unknown option ${argv[i]}`);
    }
  }
  try { checkBoard(o.board); } catch (e) { usage(e.message); }
  return o;
}

/** With --pci: the default devices and --disk items become virtio-*-pci (with --pci-props);
 * explicit --device values stay as given. */
function withPci(o, devices) {
  if (!o.pci) return devices;
  const pci = o.pciProps || true;
  const props = o.pciProps ? `,${o.pciProps}` : "";
  return devices.map((d) => {
    if (typeof d === "string") return o.defaults && /^virtio-\w+-device$/.test(d) && !o.devices.includes(d) ? d.replace(/-device$/, `-pci${props}`) : d;
    return { ...d, pci };
  });
}

/** The default devices: demo disk, entropy, console, network (with `hostfwd` rules), keyboard. */
function defaultDevices(hostfwd = []) {
  const disk = ensureDemoDisk(join(ROOT, ".cache", "demo-disk.img"));
  return [{ disk }, "virtio-rng-device", { console: true }, { net: hostfwd.length ? { hostfwd } : true }, "virtio-keyboard-device"];
}

async function prepare(o, quiet) {
  try {
    ensureNodeModules();
  } catch (e) {
    console.error(`start: ${e.message}`);
    process.exit(5);
  }
  const deps = ensureSystemDeps({ quiet, boards: [o.board] });
  if (!deps.ok) { console.error(`start: ${deps.reason}`); process.exit(5); }
  if (o.elf) {
    if (!existsSync(o.elf)) { console.error(`start: --elf ${o.elf}: no such file`); process.exit(5); }
    return o.elf;
  }
  if (o.app) {
    console.error(`[start] building the app in ${o.app}`);
    try {
      return (await buildApp({ dir: o.app, board: o.board, quiet })).elf;
    } catch (e) {
      console.error(`start: ${e.message}`);
      process.exit(5);
    }
  }
  const elf = join(ROOT, "build", "fw", o.board, "firmware.elf");
  if (!o.build) {
    if (!existsSync(elf)) { console.error(`start: ${elf} does not exist (drop --no-build)`); process.exit(5); }
    return elf;
  }
  // On stderr even with --run, so a first build (a minute or so) does not look like a hang.
  console.error("[start] building the firmware if needed (npm run build)");
  const t0 = Date.now();
  const fw = await buildFirmwareIfNeeded({ board: o.board, quiet });
  if (!fw.ok) { console.error(`start: ${fw.reason}`); process.exit(5); }
  if (fw.rebuilt) console.error(`[start] firmware rebuilt in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return fw.elf;
}

/** Interactive: QEMU owns the terminal (-nographic, Ctrl-A X). Resolves with its exit code. */
async function interactive(o, elf, devices) {
  const tempDir = mkdtempSync(join(tmpdir(), "virtio-start-"));
  const qmpSocket = join(tempDir, "qmp.sock");
  const cleanup = () => rmSync(tempDir, { recursive: true, force: true });
  const extraArgs = o.gdb ? [...o.qemu, "-s", "-S"] : o.qemu;
  const cmd = buildQemuCommand({ board: o.board, elf, legacy: o.legacy, devices, extraArgs, tempDir, qmpSocket, serial: "terminal" });
  console.error(`[start] ${o.legacy ? "legacy" : "modern"} virtio-mmio; quit with Ctrl-A X (Ctrl-A H for help)`);
  console.error(`[start] QMP: ${qmpSocket}`);
  if (o.gdb) console.error(`[start] stopped at reset; attach with: gdb-multiarch ${elf} -ex "target remote localhost:1234"`);
  if (o.verbose) console.error(`[start] QEMU command line: ${[cmd.binary, ...cmd.args].join(" ")}`);
  for (const c of cmd.consoles) console.error(`[start] virtio console: ${c}  (e.g. nc -U ${c})`);
  const child = spawn(cmd.binary, cmd.args, { stdio: "inherit" });
  process.on("exit", () => { if (child.exitCode === null) child.kill("SIGKILL"); cleanup(); });
  // Ctrl-C reaches QEMU through the terminal (raw mode) or its process group; this
  // process waits for QEMU instead of dying first.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig === "SIGINT" ? "SIGTERM" : sig));
  // --timeout: SIGTERM first, so that QEMU puts the terminal back out of raw mode.
  let timedOut = false;
  let timer = null;
  if (o.timeoutS) {
    timer = setTimeout(() => {
      timedOut = true;
      console.error(`\r\n[start] --timeout ${o.timeoutS} s reached\r`);
      child.kill("SIGTERM");
      timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    }, o.timeoutS * 1000);
  }
  const code = await new Promise((r) => {
    child.on("error", (e) => { console.error(`start: cannot run ${cmd.binary}: ${e.message}`); r(5); });
    child.on("exit", (c) => r(timedOut ? 4 : c ?? 3));
  });
  if (timer) clearTimeout(timer);
  cleanup();
  return code;
}

/** --run: boots, runs each command through the harness, powers off. Resolves the exit status. */
async function runCommands(o, elf, devices) {
  const timeoutMs = (o.timeoutS ?? 300) * 1000;
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  const m = new QemuMachine({
    board: o.board,
    elf,
    legacy: o.legacy,
    devices,
    extraArgs: o.qemu,
    bootTimeoutMs: Math.min(timeoutMs, 60000),
    commandTimeoutMs: timeoutMs,
    echo: o.verbose ? process.stderr : null,
    lifetimeS: Math.ceil(timeoutMs / 1000) + 30,
  });
  let status = 0;
  let timedOut = false;
  let booted = false;
  const watchdog = setTimeout(() => { timedOut = true; m.close(); }, timeoutMs);
  try {
    await m.start();
    booted = true;
    for (const line of o.run) {
      if (!o.verbose) console.error(`virtio> ${line}`);
      const r = await m.command(line, { timeoutMs: left() });
      if (r.output) console.log(r.output);
      if (r.status !== 0) {
        console.error(`[start] \`${line}\` failed (status ${r.status})`);
        status = 1;
      }
    }
    if (o.screenshot) {
      // QMP screendump works with -display none; "format": "png" since QEMU 7.1.
      try {
        await m.qmp("screendump", { filename: o.screenshot, format: "png" });
        console.error(`[start] screenshot: ${o.screenshot}`);
      } catch (e) {
        if (e instanceof QemuError) throw e;
        console.error(`[start] --screenshot ${o.screenshot}: ${e.message}`);
        status = 1;
      }
    }
    const code = await m.poweroff({ timeoutMs: Math.min(left(), 10000) });
    if (code !== 0) {
      console.error(`[start] QEMU exited with code ${code} after poweroff`);
      status = 3;
    }
  } catch (e) {
    if (!(e instanceof QemuError)) throw e;
    // A command's partial output belongs with the other outputs; a failed boot shows the
    // last UART lines instead (unless --verbose already showed them).
    if (booted && e.output) console.log(e.output);
    console.error(timedOut ? `[start] --timeout ${timeoutMs / 1000} s reached` : `[start] ${e.message}`);
    if (!booted && !o.verbose && e.transcript) console.error(`[start] last UART output:\n${e.transcript.split("\n").slice(-15).join("\n")}`);
    status = timedOut || e instanceof QemuTimeoutError ? 4 : 3;
    if (e instanceof QemuFatalError) status = 3;
  } finally {
    if (o.verbose && m.commandLine) console.error(`[start] QEMU command line: ${[m.commandLine.binary, ...m.commandLine.args].join(" ")}`);
    clearTimeout(watchdog);
    await m.close();
  }
  return status;
}

/** --boot-times N: spawn-to-first-prompt wall time over N boots. Resolves the exit status. */
async function bootTimes(o, elf, devices) {
  const times = [];
  for (let i = 0; i < o.bootTimes; i++) {
    const m = new QemuMachine({ board: o.board, elf, legacy: o.legacy, devices, extraArgs: o.qemu, batch: false, bootTimeoutMs: (o.timeoutS ?? 60) * 1000 });
    try {
      await m.start();
      times.push(m.bootMs);
      console.error(`[start] boot ${i + 1}/${o.bootTimes}: ${m.bootMs.toFixed(1)} ms`);
    } catch (e) {
      if (!(e instanceof QemuError)) throw e;
      console.error(`[start] boot ${i + 1} failed: ${e.message}`);
      return e instanceof QemuTimeoutError ? 4 : 3;
    } finally {
      await m.close();
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const r = (x) => Math.round(x * 10) / 10;
  console.log(JSON.stringify({ bootMs: { median: r(median), min: r(sorted[0]), max: r(sorted[sorted.length - 1]), n: times.length }, legacy: o.legacy, devices: devices.length }));
  return 0;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) { console.log(HELP); return 0; }
  if (o.screenshot && !o.run.length) usage("--screenshot needs --run (the screen is saved after the commands)");
  if (o.gdb && (o.run.length || o.bootTimes)) usage("--gdb is for interactive runs (not with --run or --boot-times)");
  const quiet = (o.run.length > 0 || o.bootTimes > 0) && !o.verbose;
  const elf = await prepare(o, quiet);
  mkdirSync(join(ROOT, ".cache"), { recursive: true });
  if (o.hostfwd.length && !o.defaults) usage("--hostfwd applies to the default network device (drop --no-defaults, or use --device / --qemu)");
  if (o.app && (o.run.length || o.bootTimes)) usage("--run and --boot-times drive the shell: not with --app (an app that includes the shell: use the shell firmware's --run, or the HIL harness)");
  const devices = withPci(o, [...(o.defaults ? defaultDevices(o.hostfwd) : []), ...o.devices]);
  if (o.bootTimes) return bootTimes(o, elf, devices);
  if (o.run.length) return runCommands(o, elf, devices);
  return interactive(o, elf, devices);
}

process.exitCode = await main();
