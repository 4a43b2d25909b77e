// QemuMachine: boots the firmware on qemu-system-arm, drives the shell over the UART (QEMU's
// stdio, as pipes) and QEMU over QMP (a unix socket in a temp dir). Every wait has a
// timeout; close() always kills QEMU and removes the temp dir, and so does process exit.
//
//   const m = new QemuMachine({ devices: [{ disk: "d.img" }, "virtio-rng-device"] });
//   await m.start();                               // boots to `virtio> `, enters batch mode
//   const { output, status } = await m.command("js 6*7");   // "42", 0
//   await m.qmp("query-status");
//   await m.close();
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildQemuCommand, guestBanner } from "./qemu-board.mjs";
import { QemuError, QemuExitError, QemuFatalError, QemuTimeoutError } from "./qemu-errors.mjs";
import { trackMachine, untrackMachine } from "./qemu-exit-hooks.mjs";
import { QmpClient } from "./qmp.mjs";
import { which } from "./system-deps.mjs";

export { buildQemuCommand, deviceArgs, loadBoard } from "./qemu-board.mjs";
export { QemuError, QemuExitError, QemuFatalError, QemuTimeoutError } from "./qemu-errors.mjs";

export const PROMPT = "virtio> ";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the promise's value, or null after `ms`; leaves no timer behind. */
function within(promise, ms) {
  let timer;
  const timeout = new Promise((r) => { timer = setTimeout(() => r(null), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
const TRANSCRIPT_TAIL = 64 * 1024;
const KEEP_TEXT = 1 << 20;
const FATAL_RE = /(?:^|\n)FATAL: [^\n]*/;

/** The output of a command as a caller wants it: \n line ends, no status lines, trimmed. */
function cleanOutput(raw, echoedLine) {
  let lines = raw.replace(/\r\n?/g, "\n").split("\n");
  if (echoedLine !== undefined && lines.length && lines[0].trim() === echoedLine.trim()) lines = lines.slice(1);
  lines = lines.filter((l) => !/^@@status \d+$/.test(l));
  return lines.join("\n").replace(/^\n+|\n+$/g, "");
}

export class QemuMachine {
  #opts;
  #child = null;
  #tempDir;
  #qmpSocket;
  #qmpClient = null;
  #decoder = new TextDecoder("utf-8");
  #text = ""; // UART output not yet dropped
  #base = 0; // how many characters were dropped from the front of #text
  #cursor = 0; // position in #text up to which waits have consumed
  #transcript = "";
  #waiters = new Set();
  #exit = null; // {code, signal} once QEMU is gone
  #exited; // Promise of #exit
  #resolveExited;
  #closed = false;
  #batch = false;
  #started = false;
  /** The command line used, for logs: {binary, args}. */
  commandLine = null;
  /** Milliseconds from spawn to the first prompt. */
  bootMs = null;
  /** What the firmware printed before its first prompt. */
  banner = "";
  /** Unix socket paths of the {console} devices, in order. */
  consoles = [];

  /**
   * @param {object} opts
   * @param {string} [opts.board]        board folder name (default qemu-virt-arm)
   * @param {string} [opts.elf]          firmware ELF (default build/fw/<board>/firmware.elf)
   * @param {string} [opts.bios]         boot a -bios image instead (e.g. U-Boot)
   * @param {boolean} [opts.legacy]      QEMU's legacy virtio-mmio (version 1); default modern
   * @param {Array} [opts.devices]       see deviceArgs() in qemu-board.mjs
   * @param {string[]} [opts.extraArgs]  raw extra QEMU arguments
   * @param {string} [opts.memory]       -m value (default the board's)
   * @param {string|RegExp|null} [opts.prompt] the shell prompt (default "virtio> "); null: start()
   *                                     returns once QEMU is spawned
   * @param {boolean} [opts.batch]       use the shell's batch mode (default true)
   * @param {number} [opts.bootTimeoutMs]     default 20000
   * @param {number} [opts.commandTimeoutMs]  default 30000
   * @param {number} [opts.lifetimeS]    hard limit on QEMU's life even if this process dies (default 1800)
   * @param {{write(s: string): any}} [opts.echo]  gets every UART byte (debugging; env QEMU_ECHO=1)
   */
  constructor(opts = {}) {
    this.#opts = {
      prompt: PROMPT,
      batch: true,
      bootTimeoutMs: 20000,
      commandTimeoutMs: 30000,
      lifetimeS: 1800,
      echo: process.env.QEMU_ECHO ? process.stderr : null,
      ...opts,
    };
    this.#tempDir = mkdtempSync(join(tmpdir(), "virtio-qemu-"));
    this.#qmpSocket = join(this.#tempDir, "qmp.sock");
    this.#exited = new Promise((r) => { this.#resolveExited = r; });
    trackMachine(this);
  }

  /**
   * Changes options before start() (e.g. devices that need tempDir, the ELF once it is
   * built). Throws once started.
   */
  configure(more) {
    if (this.#started) throw new QemuError("configure() after start()");
    Object.assign(this.#opts, more);
    return this;
  }

  /** A temp dir removed by close(): put sockets and scratch files for this run here. */
  get tempDir() { return this.#tempDir; }
  /** {code, signal} once QEMU has exited, else null. */
  get exit() { return this.#exit; }
  /** Resolves with {code, signal} when QEMU exits. */
  get exited() { return this.#exited; }
  /** The tail (64 KiB) of everything the UART printed. */
  get transcript() { return this.#transcript; }
  get running() { return this.#child !== null && this.#exit === null; }
  /** The spawned process's pid, also its process group id (null before start()). */
  get pid() { return this.#child?.pid ?? null; }

  /** Spawns QEMU and waits for the first prompt; enters batch mode if asked. Returns this. */
  async start() {
    if (this.#started) throw new QemuError("start() called twice");
    if (this.#closed) throw new QemuError("machine is closed");
    this.#started = true;
    const o = this.#opts;
    const cmd = buildQemuCommand({ ...o, tempDir: this.#tempDir, qmpSocket: this.#qmpSocket, serial: "pipe" });
    this.consoles = cmd.consoles;
    this.commandLine = { binary: cmd.binary, args: cmd.args };
    // Under `timeout` QEMU dies even if this process is SIGKILLed; its own process group
    // lets close() kill both at once.
    const useTimeout = which("timeout") !== null;
    const file = useTimeout ? "timeout" : cmd.binary;
    const argv = useTimeout ? ["-k", "2", String(o.lifetimeS), cmd.binary, ...cmd.args] : cmd.args;
    const t0 = performance.now();
    const child = spawn(file, argv, { stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.#child = child;
    let stderr = "";
    child.stdout.on("data", (b) => this.#onOutput(this.#decoder.decode(b, { stream: true })));
    child.stderr.on("data", (b) => { stderr += b.toString(); if (stderr.length > 16384) stderr = stderr.slice(-16384); });
    child.stdin.on("error", () => {}); // EPIPE after QEMU exits: reported by the exit
    child.on("error", (e) => this.#onExit({ code: null, signal: null, error: e.message, stderr }));
    child.on("close", (code, signal) => this.#onExit({ code, signal, stderr: stderr.trim() }));
    if (o.prompt === null) return this; // no shell to wait for (another guest, a bare QEMU)
    try {
      const m = await this.waitFor(o.prompt, o.bootTimeoutMs, { what: "the first prompt" });
      this.bootMs = performance.now() - t0;
      this.banner = guestBanner(cleanOutput(m.before), cmd.firmwareOutput);
      if (o.batch) {
        await this.#send("batch on\r");
        const s = await this.waitFor(/@@status (\d+)\r?\n/, o.commandTimeoutMs, { what: "`batch on`" });
        await this.waitFor(o.prompt, o.commandTimeoutMs, { what: "the prompt after `batch on`" });
        if (s[1] !== "0") throw new QemuError(`\`batch on\` failed with status ${s[1]}`, { transcript: this.#transcript });
        this.#batch = true;
      }
    } catch (e) {
      await this.close();
      throw e;
    }
    return this;
  }

  #onOutput(s) {
    if (!s) return;
    this.#opts.echo?.write(s);
    this.#text += s;
    this.#transcript = (this.#transcript + s).slice(-TRANSCRIPT_TAIL);
    for (const w of [...this.#waiters]) w.check();
    if (this.#cursor > KEEP_TEXT) {
      this.#text = this.#text.slice(this.#cursor);
      this.#base += this.#cursor;
      this.#cursor = 0;
    }
  }

  #onExit(exit) {
    if (this.#exit) return;
    this.#exit = exit;
    const tail = this.#decoder.decode();
    if (tail) this.#onOutput(tail);
    for (const w of [...this.#waiters]) w.check();
    this.#resolveExited(exit);
  }

  /**
   * Waits until the UART output after the last consumed position matches `pattern` (a
   * string or RegExp). Resolves with the match plus `before` (the text between the old
   * position and the match) and consumes up to the match's end. Rejects with
   * QemuTimeoutError, QemuExitError, or QemuFatalError (a `FATAL: ` line, unless
   * `allowFatal`).
   */
  waitFor(pattern, timeoutMs = this.#opts.commandTimeoutMs, { what, allowFatal = false } = {}) {
    const re = typeof pattern === "string"
      ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
    const label = what ?? String(pattern);
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          const rest = this.#text.slice(this.#cursor);
          const m = re.exec(rest);
          const fatal = allowFatal ? null : FATAL_RE.exec(rest);
          if (m && (!fatal || m.index <= fatal.index)) {
            const before = rest.slice(0, m.index);
            this.#cursor += m.index + m[0].length;
            m.before = before;
            done();
            resolve(m);
          } else if (fatal && (/\n/.test(rest.slice(fatal.index + 1)) || this.#exit)) {
            this.#cursor = this.#text.length;
            done();
            const line = fatal[0].replace(/^\n/, "").trim();
            reject(new QemuFatalError(`firmware died while waiting for ${label}: ${line}`, this.#errInfo(rest)));
          } else if (this.#exit) {
            this.#cursor = this.#text.length;
            done();
            const x = this.#exit;
            const how = x.error ? `could not start (${x.error})` : `exited (code ${x.code}${x.signal ? `, signal ${x.signal}` : ""})`;
            const err = x.stderr ? `; stderr: ${x.stderr}` : "";
            reject(new QemuExitError(`QEMU ${how} while waiting for ${label}${err}`, this.#errInfo(rest)));
          }
        },
      };
      const timer = setTimeout(() => {
        done();
        const rest = this.#text.slice(this.#cursor);
        reject(new QemuTimeoutError(`timed out after ${timeoutMs} ms waiting for ${label}`, this.#errInfo(rest)));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  #errInfo(rest) {
    return { output: cleanOutput(rest), transcript: this.#transcript, exit: this.#exit };
  }

  /** Writes to the UART in 16-byte chunks (the PL011's FIFO depth), pausing between them. */
  async #send(text) {
    if (!this.running) throw new QemuExitError("QEMU is not running", { transcript: this.#transcript, exit: this.#exit });
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < bytes.length; i += 16) {
      if (i > 0) await sleep(1);
      if (!this.running) break;
      const ok = this.#child.stdin.write(bytes.subarray(i, i + 16));
      if (!ok) await new Promise((r) => this.#child.stdin.once("drain", r));
    }
  }

  /** Sends raw bytes or text to the UART (no line end added). */
  write(text) {
    return this.#send(text);
  }

  /** Sends Ctrl-C: the shell interrupts the running command (one that serves until stopped). */
  interrupt() {
    return this.#send("\x03");
  }

  /**
   * Runs one shell line. Batch mode: resolves {output, status} (status 0 ok, 1 failed) once
   * `@@status N` and the prompt are back. Without batch mode (another shell, e.g. U-Boot):
   * output is what came before the next prompt, minus the echo, status null.
   */
  async command(line, { timeoutMs = this.#opts.commandTimeoutMs } = {}) {
    const running = await this.begin(line);
    return running.finish({ timeoutMs });
  }

  /**
   * Starts a shell line and returns at once, for commands that run until stopped (`net
   * udp-echo`, `console echo`, `input watch`): `waitFor()` on the returned object (or the
   * machine) waits for its progress lines, `interrupt()` sends Ctrl-C, and
   * `finish({timeoutMs})` resolves {output, status} with everything the command printed.
   */
  async begin(line) {
    if (/[\r\n]/.test(line)) throw new TypeError("command(): one line, without line ends");
    if (!this.#started || this.#closed || this.#opts.prompt === null) throw new QemuError("machine is not started, or has no shell");
    const what = `\`${line}\``;
    const startAbs = this.#base + this.#cursor;
    await this.#send(line + "\r");
    const fromStart = (beforeMatchAbs) => this.#text.slice(Math.max(0, startAbs - this.#base), Math.max(0, beforeMatchAbs - this.#base));
    return {
      waitFor: (pattern, timeoutMs, opts) => this.waitFor(pattern, timeoutMs, opts),
      interrupt: () => this.interrupt(),
      finish: async ({ timeoutMs = this.#opts.commandTimeoutMs } = {}) => {
        if (this.#batch) {
          let m;
          try {
            m = await this.waitFor(/(?:^|\n)@@status (\d+)\r?\n/, timeoutMs, { what });
          } catch (e) {
            if (e instanceof QemuError) e.output = cleanOutput(fromStart(this.#base + this.#cursor), line);
            throw e;
          }
          const output = cleanOutput(fromStart(this.#base + this.#cursor - m[0].length), line);
          await this.waitFor(this.#opts.prompt, timeoutMs, { what: `the prompt after ${what}` });
          return { output, status: Number(m[1]) };
        }
        const m = await this.waitFor(this.#opts.prompt, timeoutMs, { what });
        return { output: cleanOutput(fromStart(this.#base + this.#cursor - m[0].length), line), status: null };
      },
    };
  }

  /** The connected QMP client (connects on first use). */
  async qmpClient() {
    if (!this.#qmpClient) {
      if (!this.running) throw new QemuExitError("QEMU is not running", { exit: this.#exit });
      this.#qmpClient = await QmpClient.connect(this.#qmpSocket, { timeoutMs: 5000 });
    }
    return this.#qmpClient;
  }

  /** Runs a QMP command and resolves with its return value. */
  async qmp(command, args, { timeoutMs = 10000 } = {}) {
    return (await this.qmpClient()).execute(command, args, { timeoutMs });
  }

  /** Sends `poweroff` and waits for QEMU to exit; resolves with its exit code. */
  async poweroff({ timeoutMs = 10000 } = {}) {
    if (this.running) await this.#send("poweroff\r").catch(() => {});
    const x = await within(this.#exited, timeoutMs);
    if (!x) {
      await this.close();
      throw new QemuTimeoutError(`QEMU did not exit within ${timeoutMs} ms of \`poweroff\``, { transcript: this.#transcript });
    }
    return x.code;
  }

  /** Sends a signal to QEMU's process group (SIGKILL: a power cut); no clean-up. */
  signal(sig = "SIGKILL") {
    if (this.#child && this.#exit === null) {
      try { process.kill(-this.#child.pid, sig); } catch { /* already gone */ }
    }
  }

  /** Synchronous kill and temp cleanup (process exit hook). */
  killNow() {
    if (this.#child && this.#exit === null) {
      try { process.kill(-this.#child.pid, "SIGKILL"); } catch { /* already gone */ }
    }
    this.#removeTemp();
    untrackMachine(this);
  }

  #removeTemp() {
    try { rmSync(this.#tempDir, { recursive: true, force: true }); } catch { /* best effort */ }
  }

  /** Kills QEMU (TERM, then KILL after 1 s), removes the temp dir. Safe to call twice. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#qmpClient?.close();
    if (this.#child && this.#exit === null) {
      try { process.kill(-this.#child.pid, "SIGTERM"); } catch { /* gone */ }
      const x = await within(this.#exited, 1000);
      if (!x) {
        try { process.kill(-this.#child.pid, "SIGKILL"); } catch { /* gone */ }
        await within(this.#exited, 2000);
      }
    }
    for (const w of [...this.#waiters]) w.check();
    this.#removeTemp();
    untrackMachine(this);
  }
}

/** Boots a machine, runs the callback, always closes it. */
export async function withQemu(opts, fn) {
  const m = new QemuMachine(opts);
  try {
    await m.start();
    return await fn(m);
  } finally {
    await m.close();
  }
}

/** The QEMU version string, e.g. "7.2.22". */
export function qemuVersion(binary = "qemu-system-arm") {
  const r = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return /version (\S+)/.exec(r.stdout ?? "")?.[1] ?? null;
}
