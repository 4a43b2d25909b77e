// The QEMU command line: the board's base arguments (boards/<board>/board.json) plus the
// harness's own (serial, QMP, virtio-mmio mode, devices). Pure functions, no process.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./node-deps.mjs";

/** The board the tools use when none is named: env VIRTIO_BOARD (`npm test -- --board B`
 * sets it for the suites), else the 32-bit ARM board. */
export const DEFAULT_BOARD = process.env.VIRTIO_BOARD || "qemu-virt-arm";

/** The boards there are: the folders of boards/ with a board.json. */
export function listBoards() {
  const dir = join(ROOT, "boards");
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "board.json")))
    .map((e) => e.name)
    .sort();
}

/** Throws a clear error for a board name with no boards/<name>/board.json. */
export function checkBoard(board) {
  if (!listBoards().includes(board)) throw new Error(`unknown board "${board}" (boards: ${listBoards().join(", ")})`);
  return board;
}

/** Used when a board has no board.json yet (facts from shared/platform-facts.md). */
const FALLBACK = { binary: "qemu-system-arm", args: ["-M", "virt", "-cpu", "cortex-a15", "-m", "128M"] };

/** Options the harness sets itself; removed from the board's arguments (with their value). */
const HARNESS_OWNED_WITH_VALUE = new Set(["-kernel", "-bios", "-serial", "-monitor", "-qmp", "-display", "-chardev", "-mon"]);
const HARNESS_OWNED_FLAGS = new Set(["-nographic", "-no-reboot"]);

function splitArgs(value) {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string") return value.trim().split(/\s+/).filter(Boolean);
  return [];
}

/**
 * Reads boards/<board>/board.json and returns {binary, args, modern, legacy, firmwareOutput, elf}. Accepts
 * the QEMU part as `qemu: {binary?, args, modernOption?, legacyOption?}` (arrays or
 * strings), `qemu: [...]`, or `qemuArgs`; a leading `qemu-system-*` word in the args is
 * taken as the binary. modern/legacy: the arguments that pick the virtio-mmio version;
 * firmwareOutput (`qemu.firmwareOutput`): a regex for what the boot firmware QEMU runs
 * first prints (OpenSBI), left out of the banner.
 */
export function loadBoard(board = DEFAULT_BOARD) {
  const file = join(ROOT, "boards", board, "board.json");
  let binary = FALLBACK.binary;
  let args = [...FALLBACK.args];
  let modern = ["-global", "virtio-mmio.force-legacy=false"];
  let legacy = [];
  let firmwareOutput = null;
  if (existsSync(file)) {
    const json = JSON.parse(readFileSync(file, "utf8"));
    const q = json.qemu ?? json.qemuArgs ?? json.qemuCommand ?? json.commandLine;
    let found = null;
    if (Array.isArray(q) || typeof q === "string") found = splitArgs(q);
    else if (q && typeof q === "object") {
      if (q.binary ?? q.bin ?? q.system) binary = String(q.binary ?? q.bin ?? q.system);
      found = splitArgs(q.args ?? q.argv ?? q.commandLine ?? q.command ?? []);
      if (q.modernOption) modern = splitArgs(q.modernOption);
      if (q.legacyOption) legacy = splitArgs(q.legacyOption);
      if (typeof q.firmwareOutput === "string") firmwareOutput = q.firmwareOutput;
    }
    if (found && found.length) {
      if (/^qemu-system-/.test(found[0]) || found[0].includes("/qemu-system-")) binary = found.shift();
      args = found;
    }
  }
  return { binary, args: stripHarnessOwned(args), modern, legacy, firmwareOutput, elf: join(ROOT, "build", "fw", board, "firmware.elf") };
}

/** Drops what the harness decides itself (serial, monitor, kernel, force-legacy, -nic). */
export function stripHarnessOwned(args) {
  const out = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (HARNESS_OWNED_FLAGS.has(a)) continue;
    if (HARNESS_OWNED_WITH_VALUE.has(a)) { i++; continue; }
    if (a === "-nic" && args[i + 1] === "none") { i++; continue; }
    if (a === "-global" && /^virtio-mmio\.force-legacy=/.test(args[i + 1] ?? "")) { i++; continue; }
    out.push(a);
  }
  return out;
}

/** QEMU option values use `,` as a separator; a literal comma is written `,,`. */
export const qemuEscape = (s) => String(s).replace(/,/g, ",,");

/** The QEMU device name of a virtio device: virtio-NAME-device (mmio) or virtio-NAME-pci
 * with `pci` (true, or a string of extra properties such as "disable-modern=on"). */
function virtioDevice(name, pci) {
  if (!pci) return `virtio-${name}-device`;
  return `virtio-${name}-pci${typeof pci === "string" && pci ? `,${pci}` : ""}`;
}

/** virtio-net-pci (and any PCI NIC) would load a boot ROM (efi-virtio.rom) the firmware has
 * no use for and a minimal QEMU install lacks: `romfile=` (empty) leaves it out. */
function noBootRom(device) {
  return /^virtio-net-pci(,|$)/.test(device) && !/(^|,)romfile=/.test(device) ? `${device},romfile=` : device;
}

/**
 * Turns a device list into QEMU arguments, in order (virtio-mmio slots are filled from 31
 * downwards in command-line order; PCI functions from 00.1 up). Items:
 *   "virtio-rng-device" or {device: "..."}      one -device value ("virtio-rng-pci" too)
 *   {disk: FILE, readonly?: true}               a raw image on virtio-blk
 *   {net: true | {hostfwd?: ["udp:127.0.0.1:5555-:7", ...]}}   user networking on virtio-net
 *   {console: true | {path?}}                   virtio-serial + virtconsole on a unix socket
 * disk, net and console items take `pci: true | "PROPS"` for the virtio-*-pci device
 * (with PROPS appended, e.g. "disable-modern=on,disable-legacy=off" or "vectors=0").
 * Returns {args, consoles: [socket paths]}.
 */
export function deviceArgs(devices, tempDir) {
  const args = [];
  const consoles = [];
  let disk = 0;
  let net = 0;
  let con = 0;
  for (const d of devices) {
    if (typeof d === "string") args.push("-device", noBootRom(d));
    else if (d && typeof d.device === "string") args.push("-device", d.device);
    else if (d && d.disk !== undefined) {
      const id = `d${disk++}`;
      const ro = d.readonly ? ",readonly=on" : "";
      args.push("-drive", `if=none,id=${id},format=${d.format ?? "raw"},file=${qemuEscape(d.disk)}${ro}`);
      args.push("-device", `${virtioDevice("blk", d.pci)},drive=${id}`);
    } else if (d && d.net !== undefined && d.net !== false) {
      const id = `net${net++}`;
      const fwd = (d.net === true ? [] : d.net.hostfwd ?? []).map((f) => `,hostfwd=${f}`).join("");
      args.push("-netdev", `user,id=${id}${fwd}`);
      args.push("-device", noBootRom(`${virtioDevice("net", d.pci)},netdev=${id}`));
    } else if (d && d.console !== undefined && d.console !== false) {
      const id = `con${con++}`;
      const path = (d.console === true ? null : d.console.path) ?? join(tempDir, `${id}.sock`);
      consoles.push(path);
      args.push("-chardev", `socket,id=${id},path=${qemuEscape(path)},server=on,wait=off`);
      args.push("-device", virtioDevice("serial", d.pci), "-device", `virtconsole,chardev=${id}`);
    } else {
      throw new TypeError(`unknown device entry: ${JSON.stringify(d)}`);
    }
  }
  return { args, consoles };
}

/**
 * The full command line. `serial`: "pipe" (the harness reads and writes QEMU's stdio) or
 * "terminal" (QEMU owns the terminal: -nographic, Ctrl-A X quits, Ctrl-A C the monitor).
 */
export function buildQemuCommand({
  board = DEFAULT_BOARD,
  elf,
  bios,
  legacy = false,
  devices = [],
  defaultNic = false,
  memory,
  extraArgs = [],
  tempDir,
  qmpSocket,
  serial = "pipe",
} = {}) {
  const b = loadBoard(board);
  const args = [...b.args];
  if (memory) {
    const i = args.indexOf("-m");
    if (i >= 0) args.splice(i, 2);
    args.push("-m", String(memory));
  }
  args.push(...(legacy ? b.legacy : b.modern));
  if (!defaultNic) args.push("-nic", "none");
  const dev = deviceArgs(devices, tempDir);
  args.push(...dev.args);
  if (serial === "terminal") args.push("-nographic", "-serial", "mon:stdio");
  else args.push("-display", "none", "-monitor", "none", "-serial", "stdio");
  if (qmpSocket) args.push("-qmp", `unix:${qmpSocket},server=on,wait=off`);
  args.push("-no-reboot");
  if (bios) args.push("-bios", bios);
  else args.push("-kernel", elf ?? b.elf);
  args.push(...extraArgs);
  // What the board's own boot firmware prints before the guest (OpenSBI's banner on
  // riscv64: board.json `qemu.firmwareOutput`, a regex from the start); not with -bios.
  const firmwareOutput = bios || !b.firmwareOutput ? null : new RegExp(b.firmwareOutput);
  return { binary: b.binary, args, consoles: dev.consoles, firmwareOutput };
}

/** `text` (the console before the first prompt) without the boot firmware's part. */
export function guestBanner(text, firmwareOutput) {
  if (!firmwareOutput) return text;
  const m = firmwareOutput.exec(text);
  return m && m.index === 0 ? text.slice(m[0].length).replace(/^\s+/, "") : text;
}
