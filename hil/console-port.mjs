// The host end of one virtio-console port: QEMU's chardev is a unix socket server in the
// board's temp dir; this connects to it, collects what the guest writes, writes to the
// guest, and waits for text with a timeout that says what it waited for.
import { connect } from "node:net";
import { existsSync } from "node:fs";
import { QemuTimeoutError } from "../tools/lib/qemu.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tailOf = (s, lines = 20) => s.split("\n").slice(-lines).join("\n");

export class ConsolePort {
  #socket;
  #chunks = [];
  #text = "";
  #decoder = new TextDecoder("utf-8");
  #cursor = 0;
  #waiters = new Set();
  #closed = false;
  /** The socket path (QEMU's chardev). */
  path;
  /** Which port of the board (0 = the first console). */
  index;

  /** Connects to `path`, retrying until the socket exists (QEMU makes it at start). */
  static async connect(path, { index = 0, timeoutMs = 5000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last = null;
    while (Date.now() < deadline) {
      if (existsSync(path)) {
        try {
          const sock = connect(path);
          await new Promise((resolve, reject) => { sock.once("connect", resolve); sock.once("error", reject); });
          return new ConsolePort(sock, path, index);
        } catch (e) {
          last = e;
        }
      }
      await sleep(20);
    }
    throw new QemuTimeoutError(`console ${index}: could not connect to ${path} within ${timeoutMs} ms${last ? `: ${last.message}` : ""}`);
  }

  constructor(socket, path, index) {
    this.#socket = socket;
    this.path = path;
    this.index = index;
    socket.on("data", (b) => {
      this.#chunks.push(b);
      this.#text += this.#decoder.decode(b, { stream: true });
      for (const w of [...this.#waiters]) w.check();
    });
    socket.on("error", () => {}); // reported as "closed" to waiters
    socket.on("close", () => {
      this.#closed = true;
      for (const w of [...this.#waiters]) w.check();
    });
  }

  /** Every byte the guest wrote to this port so far. */
  get bytes() { return Buffer.concat(this.#chunks); }
  /** The same, decoded as UTF-8. */
  get text() { return this.#text; }
  get closed() { return this.#closed; }

  /** Writes text (UTF-8) or bytes to the guest; resolves once handed to the socket. */
  write(data) {
    if (this.#closed) return Promise.reject(new Error(`console ${this.index}: closed`));
    return new Promise((resolve, reject) => this.#socket.write(data, (e) => (e ? reject(e) : resolve())));
  }

  /** Returns what arrived since the last read() or waitFor() and consumes it. */
  read() {
    const s = this.#text.slice(this.#cursor);
    this.#cursor = this.#text.length;
    return s;
  }

  /**
   * Waits until the text after the last consumed position matches `pattern` (string or
   * RegExp); resolves the match (with `before`) and consumes up to its end.
   */
  waitFor(pattern, opts = {}) {
    const { timeoutMs = 10000 } = typeof opts === "number" ? { timeoutMs: opts } : opts;
    const re = typeof pattern === "string"
      ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
    return new Promise((resolve, reject) => {
      const done = () => { clearTimeout(timer); this.#waiters.delete(w); };
      const fail = (why) => {
        done();
        const rest = this.#text.slice(this.#cursor);
        reject(new QemuTimeoutError(
          `console ${this.index}: ${why} waiting for ${pattern}; it received ${rest.length} characters since the last match, ending:\n${tailOf(rest) || "(nothing)"}`,
          { output: rest },
        ));
      };
      const w = {
        check: () => {
          const rest = this.#text.slice(this.#cursor);
          const m = re.exec(rest);
          if (m) {
            m.before = rest.slice(0, m.index);
            this.#cursor += m.index + m[0].length;
            done();
            resolve(m);
          } else if (this.#closed) fail("the socket closed");
        },
      };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      timer.unref?.(); // a failed test must not keep the process alive
      this.#waiters.add(w);
      w.check();
    });
  }

  /** Closes the host end; safe twice. */
  close() {
    if (!this.#socket.destroyed) this.#socket.destroy();
    this.#closed = true;
  }
}
