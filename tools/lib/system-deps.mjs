// The Debian packages the firmware build and the QEMU tests need: a check that is quick
// when everything is there, and an installer (root only) that runs `apt-get update` once
// and `apt-get install -y` the missing packages. Not root: print the exact command, fail.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

/** Looks a program up on PATH without running a shell; returns its path or null. */
export function which(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** newlib is there when the cross compiler resolves libc.a to a real file. */
function hasNewlib() {
  if (!which("arm-none-eabi-gcc")) return false;
  const r = spawnSync("arm-none-eabi-gcc", ["-print-file-name=libc.a"], { encoding: "utf8" });
  const p = (r.stdout ?? "").trim();
  return r.status === 0 && isAbsolute(p) && existsSync(p);
}

/** picolibc for a target triple is there when its specs file is (Debian's picolibc-<triple>). */
const hasPicolibc = (triple) => () => existsSync(`/usr/lib/picolibc/${triple}/picolibc.specs`);

/** What is checked, and the Debian package that provides it: the default board's (and the
 * tools' own: dtc). */
export const SYSTEM_DEPS = [
  { what: "qemu-system-arm", pkg: "qemu-system-arm", present: () => which("qemu-system-arm") !== null },
  { what: "arm-none-eabi-gcc", pkg: "gcc-arm-none-eabi", present: () => which("arm-none-eabi-gcc") !== null },
  { what: "newlib for arm-none-eabi", pkg: "libnewlib-arm-none-eabi", present: hasNewlib },
  { what: "dtc", pkg: "device-tree-compiler", present: () => which("dtc") !== null },
];

/** The other boards' (boards/<board>/): their QEMU binary, cross compiler and C library. */
export const BOARD_DEPS = {
  "qemu-virt-arm": [],
  "qemu-virt-aarch64": [
    { what: "qemu-system-aarch64", pkg: "qemu-system-arm", present: () => which("qemu-system-aarch64") !== null },
    { what: "aarch64-linux-gnu-gcc", pkg: "gcc-aarch64-linux-gnu", present: () => which("aarch64-linux-gnu-gcc") !== null },
    { what: "picolibc for aarch64-linux-gnu", pkg: "picolibc-aarch64-linux-gnu", present: hasPicolibc("aarch64-linux-gnu") },
  ],
  "qemu-virt-riscv64": [
    { what: "qemu-system-riscv64", pkg: "qemu-system-misc", present: () => which("qemu-system-riscv64") !== null },
    { what: "riscv64-unknown-elf-gcc", pkg: "gcc-riscv64-unknown-elf", present: () => which("riscv64-unknown-elf-gcc") !== null },
    { what: "picolibc for riscv64-unknown-elf", pkg: "picolibc-riscv64-unknown-elf", present: hasPicolibc("riscv64-unknown-elf") },
  ],
};

/** The deps of `boards` (names; "all" for every board): the default board's plus theirs. */
function depsOf(boards = []) {
  const names = boards === "all" ? Object.keys(BOARD_DEPS) : boards;
  return [...SYSTEM_DEPS, ...names.flatMap((b) => BOARD_DEPS[b] ?? [])];
}

/** The Debian packages one board needs (for messages). */
export function boardPackages(board) {
  return [...new Set(depsOf([board]).map((d) => d.pkg))];
}

/** Returns the deps that are missing (empty when all is there), for the default board and `boards`. */
export function missingSystemDeps(boards = []) {
  return depsOf(boards).filter((d) => !d.present());
}

export function installCommand(pkgs) {
  return `apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(" ")}`;
}

let aptUpdated = false;

/**
 * Makes sure the system deps are installed. Returns {ok, reason, installed}.
 * As root it installs what is missing; otherwise it reports the command to run.
 */
export function ensureSystemDeps({ quiet = false, boards = [] } = {}) {
  const log = (msg) => { if (!quiet) console.log(`[deps] ${msg}`); };
  const missing = missingSystemDeps(boards);
  if (missing.length === 0) return { ok: true, reason: "all system packages present", installed: [] };
  const pkgs = [...new Set(missing.map((d) => d.pkg))];
  log(`missing: ${missing.map((d) => d.what).join(", ")}`);
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot) {
    const cmd = `sudo sh -c '${installCommand(pkgs)}'`;
    return { ok: false, reason: `missing system packages; install them with:\n  ${cmd}`, installed: [] };
  }
  if (!which("apt-get")) {
    return { ok: false, reason: `missing system packages (${pkgs.join(" ")}) and no apt-get on this machine`, installed: [] };
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const stdio = quiet ? "ignore" : "inherit";
  if (!aptUpdated) {
    log("apt-get update");
    const u = spawnSync("apt-get", ["update"], { env, stdio });
    if (u.status !== 0) return { ok: false, reason: `apt-get update failed (status ${u.status})`, installed: [] };
    aptUpdated = true;
  }
  log(`apt-get install -y ${pkgs.join(" ")}`);
  const r = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...pkgs], { env, stdio });
  if (r.status !== 0) return { ok: false, reason: `apt-get install failed (status ${r.status})`, installed: [] };
  const still = missingSystemDeps(boards);
  if (still.length > 0) {
    return { ok: false, reason: `still missing after install: ${still.map((d) => d.what).join(", ")}`, installed: pkgs };
  }
  return { ok: true, reason: `installed ${pkgs.join(" ")}`, installed: pkgs };
}
