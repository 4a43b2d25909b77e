// Board: one QEMU `virt` board running the firmware (or an app, or any image), for test
// suites. It wraps the project's harness (tools/lib/qemu.mjs: spawn in a process group,
// UART over pipes, QMP over a unix socket, clean-up on close and on process exit) with
// device options, host-port forwards, virtio-console ports, disk copies, a full console
// log, and errors that show what the board printed last.
import { copyFileSync, constants as fsConstants, existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { QemuError, QemuMachine } from "../tools/lib/qemu.mjs";
import { which } from "../tools/lib/system-deps.mjs";
import { qemuEscape } from "../tools/lib/qemu-board.mjs";
import { ConsolePort } from "./console-port.mjs";
import { resolveFirmware } from "./firmware.mjs";
import { allocateForwards } from "./forwards.mjs";
import { registerBoard } from "./registry.mjs";

const LOG_LIMIT = 8 << 20; // characters of console log kept per board (the tail)
const TAIL_LINES = 20;
const ENRICHED = Symbol("enriched");
let boards = 0;

/** Copies a disk image (a reflink where the filesystem can); returns `dest`. */
export function copyDisk(src, dest) {
  if (!existsSync(src)) throw new Error(`copyDisk: no image at ${src}`);
  copyFileSync(src, dest, fsConstants.COPYFILE_FICLONE);
  return dest;
}

/** The QemuMachine options a Board's options turn into (no process, no files). */
function machineOptions(o, echo) {
  const out = {
    board: o.board,
    legacy: Boolean(o.legacy),
    memory: o.memory,
    prompt: o.prompt,
    batch: o.batch,
    bootTimeoutMs: o.bootTimeoutMs ?? 30000,
    commandTimeoutMs: o.commandTimeoutMs ?? 30000,
    lifetimeS: o.lifetimeS ?? 1800,
    echo,
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

export class Board {
  #opts;
  #machine;
  #record;
  #log = "";
  #ports = new Map(); // index -> Promise<ConsolePort>
  #closed = false;
  #started = false;
  /** A name for logs and errors (option `name`, else board-N). */
  name;
  /** The image booted (set by start()). */
  firmware = null;
  /** The disks attached by the `disks` option: [{path, id, readonly}] (`id` is the QMP drive id). */
  disks = [];
  /** Host-port forwards of the `net` option: [{protocol, hostAddress, hostPort, guestPort}]. */
  forwards = [];

  /** Boots a board and resolves it once the shell (or `prompt`) is up. */
  static async boot(opts = {}) {
    const b = new Board(opts);
    await b.start();
    return b;
  }

  /** Boots several boards at once; if one fails, all are closed and its error is thrown. */
  static async bootAll(list) {
    const all = list.map((o, i) => new Board({ name: `board-${i}`, ...o }));
    const results = await Promise.allSettled(all.map((b) => b.start()));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      await Promise.all(all.map((b) => b.close()));
      throw failed.reason;
    }
    return all;
  }

  constructor(opts = {}) {
    if (opts === null || typeof opts !== "object") throw new TypeError("Board: options must be an object");
    for (const k of ["disks", "devices", "qemuArgs", "extraArgs"]) {
      if (opts[k] !== undefined && !Array.isArray(opts[k])) throw new TypeError(`Board: ${k} must be an array`);
    }
    if (opts.consoles !== undefined && !(Number.isInteger(opts.consoles) && opts.consoles >= 0)) {
      throw new TypeError("Board: consoles must be a count (0, 1, 2, ...)");
    }
    this.#opts = { ...opts };
    this.name = String(opts.name ?? `board-${++boards}`);
    const userEcho = opts.echo ?? (process.env.QEMU_ECHO ? process.stderr : null);
    const echo = {
      write: (s) => {
        this.#log += s;
        if (this.#log.length > LOG_LIMIT) this.#log = this.#log.slice(-LOG_LIMIT);
        userEcho?.write(s);
      },
    };
    this.#machine = new QemuMachine(machineOptions(this.#opts, echo));
    this.#record = registerBoard(this.name, () => this.#log);
  }

  /** Resolves the firmware (building it if asked), lays out the devices, boots. */
  async start() {
    if (this.#started) throw new QemuError(`${this.name}: start() called twice`);
    if (this.#closed) throw new QemuError(`${this.name}: closed`);
    this.#started = true;
    const o = this.#opts;
    try {
      const binary = "qemu-system-arm";
      if (!which(binary)) throw new Error(`${this.name}: ${binary} is not installed (node tools/deps.mjs --system installs it)`);
      const { devices, extraArgs } = await this.#layout();
      if (o.bios !== undefined) {
        this.firmware = resolve(String(o.bios));
        if (!existsSync(this.firmware)) throw new Error(`${this.name}: no bios image at ${this.firmware}`);
        this.#machine.configure({ bios: this.firmware, devices, extraArgs });
      } else {
        this.firmware = await resolveFirmware(o);
        this.#machine.configure({ elf: this.firmware, devices, extraArgs });
      }
      await this.#machine.start();
      if (o.qmp !== false) await this.#machine.qmpClient(); // connected now: no event is missed
    } catch (e) {
      await this.close();
      throw this.#enrich(e);
    }
    return this;
  }

  /** The device list and raw arguments, in slot order: disks, rng, consoles, net, devices. */
  async #layout() {
    const o = this.#opts;
    const devices = [];
    const extraArgs = [];
    (o.disks ?? []).forEach((d, i) => {
      const spec = typeof d === "string" ? { path: d } : d;
      if (!spec || typeof spec.path !== "string") throw new TypeError(`Board: disks[${i}] must be a path or {path, readonly?, serial?, copy?}`);
      let path = resolve(spec.path);
      if (!existsSync(path)) throw new Error(`Board: disks[${i}]: no image at ${path}`);
      if (spec.copy) path = copyDisk(path, join(this.#machine.tempDir, `disk${i}-${basename(path)}`));
      const id = `disk${i}`;
      const ro = spec.readonly ? ",readonly=on" : "";
      extraArgs.push("-drive", `if=none,id=${id},format=${spec.format ?? "raw"},file=${qemuEscape(path)}${ro}`);
      devices.push(`virtio-blk-device,drive=${id}${spec.serial ? `,serial=${qemuEscape(spec.serial)}` : ""}`);
      this.disks.push({ path, id, readonly: Boolean(spec.readonly) });
    });
    if (o.rng) devices.push("virtio-rng-device");
    for (let i = 0; i < (o.consoles ?? 0); i++) devices.push({ console: true });
    if (o.net) {
      const net = o.net === true ? {} : o.net;
      this.forwards = await allocateForwards(net.forward ?? []);
      const hostfwd = [...(net.hostfwd ?? []), ...this.forwards.map((f) => `${f.protocol}:${f.hostAddress}:${f.hostPort}-:${f.guestPort}`)];
      devices.push({ net: { hostfwd } });
    }
    devices.push(...(o.devices ?? []));
    extraArgs.push(...(o.qemuArgs ?? []), ...(o.extraArgs ?? []));
    return { devices, extraArgs };
  }

  /** Adds the last console lines to a harness error's message (once). */
  #enrich(e) {
    if (!(e instanceof Error) || e[ENRICHED]) return e;
    e[ENRICHED] = true;
    if (e instanceof QemuError) {
      void e.stack; // formats the stack now, with the one-line message (reporters print both)
      const tail = this.#log.replace(/\r\n?/g, "\n").trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
      e.message = `${this.name}: ${e.message}\n--- ${this.name}: the last ${TAIL_LINES} lines of its console ---\n${tail || "(it printed nothing)"}`;
      e.board = this.name;
    }
    return e;
  }

  #guard(promise) {
    return promise.catch((e) => { throw this.#enrich(e); });
  }

  // --- the UART and the shell -----------------------------------------------------------

  /**
   * Waits for UART output matching a string or RegExp after the last match; resolves the
   * match (with `before`). Second argument: a timeout in ms or {timeoutMs, what, allowFatal}.
   */
  waitFor(pattern, opts = {}) {
    const { timeoutMs, ...rest } = typeof opts === "number" ? { timeoutMs: opts } : opts;
    return this.#guard(this.#machine.waitFor(pattern, timeoutMs, rest));
  }

  /** Runs a shell line: resolves {output, status}; `check: true` throws when status is not 0. */
  async run(line, { timeoutMs, check = false } = {}) {
    const r = await this.#guard(this.#machine.command(line, timeoutMs === undefined ? {} : { timeoutMs }));
    if (check && r.status !== 0) {
      throw this.#enrich(new QemuError(`\`${line}\` failed with status ${r.status}: ${r.output}`, { output: r.output, transcript: this.transcript }));
    }
    return r;
  }

  /** The same as run(), by the harness's name. */
  command(line, opts) { return this.run(line, opts); }

  /** Starts a command that runs until stopped: {waitFor, interrupt, finish}. */
  async begin(line) {
    const r = await this.#guard(this.#machine.begin(line));
    return {
      waitFor: (pattern, opts) => this.waitFor(pattern, opts),
      interrupt: () => this.interrupt(),
      finish: (opts) => this.#guard(r.finish(opts)),
    };
  }

  /** Types raw text on the UART (no line end added). */
  write(text) { return this.#guard(this.#machine.write(text)); }
  /** Sends Ctrl-C. */
  interrupt() { return this.#guard(this.#machine.interrupt()); }

  // --- QMP -------------------------------------------------------------------------------

  qmp(command, args, opts) { return this.#guard(this.#machine.qmp(command, args, opts)); }
  qmpClient() { return this.#guard(this.#machine.qmpClient()); }
  /** Waits for a QMP event by name (one already received counts unless `fresh`). */
  async waitEvent(name, opts) { return (await this.qmpClient()).waitEvent(name, opts); }

  // --- virtio-console ports --------------------------------------------------------------

  /** The host end of console port `index` (connected on first use, closed by close()). */
  console(index = 0) {
    const path = this.consoles[index];
    if (path === undefined) return Promise.reject(new RangeError(`${this.name}: no console ${index} (it has ${this.consoles.length}; option consoles: N)`));
    if (!this.#ports.has(index)) {
      const p = ConsolePort.connect(path, { index });
      this.#ports.set(index, p);
      p.catch(() => this.#ports.delete(index));
    }
    return this.#ports.get(index);
  }

  // --- state -----------------------------------------------------------------------------

  get machine() { return this.#machine; }
  get banner() { return this.#machine.banner; }
  get bootMs() { return this.#machine.bootMs; }
  /** Unix socket paths of the console ports, in order. */
  get consoles() { return this.#machine.consoles; }
  get tempDir() { return this.#machine.tempDir; }
  get exit() { return this.#machine.exit; }
  get exited() { return this.#machine.exited; }
  get running() { return this.#machine.running; }
  get commandLine() { return this.#machine.commandLine; }
  /** The last 64 KiB of console output. */
  get transcript() { return this.#machine.transcript; }
  /** The whole console log (its last 8 MiB). */
  get log() { return this.#log; }

  /** The host port forwarded to `guestPort` (option net.forward). */
  hostPort(guestPort, protocol) {
    const f = this.forwards.find((x) => x.guestPort === guestPort && (protocol === undefined || x.protocol === protocol));
    if (!f) throw new RangeError(`${this.name}: no forward to guest port ${guestPort}${protocol ? `/${protocol}` : ""}`);
    return f.hostPort;
  }

  /** Copies disk `index` (its current content: power off first) to `dest`. */
  saveDisk(index, dest) {
    const d = this.disks[index];
    if (!d) throw new RangeError(`${this.name}: no disk ${index}`);
    return copyDisk(d.path, dest);
  }

  /** Sends `poweroff`; resolves QEMU's exit code. */
  poweroff(opts) { return this.#guard(this.#machine.poweroff(opts)); }

  /**
   * A power cut: SIGKILLs QEMU's process group at once (no flush, no shutdown); resolves
   * once QEMU is gone. The temp dir (and disk copies in it) stays until close().
   */
  async powerCut() {
    this.#machine.signal("SIGKILL");
    if (this.#machine.pid !== null) await this.#machine.exited;
  }

  /** The harness's name for a power cut (synchronous: QEMU may not be reaped yet). */
  killNow() { this.#machine.killNow(); }

  /** Kills QEMU (its process group), closes sockets, removes the temp dir. Safe twice. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#ports.values()) p.then((port) => port.close(), () => {});
    await this.#machine.close();
    this.#record.closedAt = performance.now();
  }

  async [Symbol.asyncDispose ?? Symbol.for("Symbol.asyncDispose")]() { await this.close(); }
}

/** Boots a board, runs `fn(board)`, always closes it. */
export async function withBoard(opts, fn) {
  const b = await Board.boot(opts);
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

/** Boots boards in parallel, runs `fn(boards)`, always closes them all. */
export async function withBoards(list, fn) {
  const all = await Board.bootAll(list);
  try {
    return await fn(all);
  } finally {
    await Promise.all(all.map((b) => b.close()));
  }
}
