// A small QMP client (QEMU Machine Protocol, JSON lines on a unix socket): the greeting,
// the `qmp_capabilities` handshake, `execute` with a timeout, and events.
import { connect } from "node:net";
import { existsSync } from "node:fs";

export class QmpError extends Error {
  constructor(command, error) {
    super(`QMP ${command}: ${error?.class ?? "Error"}: ${error?.desc ?? JSON.stringify(error)}`);
    this.name = "QmpError";
    this.command = command;
    this.qmpError = error;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class QmpClient {
  #socket = null;
  #buffer = "";
  #nextId = 1;
  #pending = new Map(); // id -> {resolve, reject, timer, command}
  #events = []; // every event received, oldest first
  #waiters = []; // {name, predicate, resolve, reject, timer}
  #closed = false;
  /** The greeting's QEMU version, e.g. {major: 7, minor: 2, micro: 22}. */
  version = null;

  /** Connects (retrying until the socket appears), reads the greeting, negotiates. */
  static async connect(path, { timeoutMs = 5000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let lastError = null;
    while (Date.now() < deadline) {
      if (existsSync(path)) {
        try {
          const client = new QmpClient();
          await client.#open(path, deadline - Date.now());
          return client;
        } catch (e) {
          lastError = e;
        }
      }
      await sleep(20);
    }
    throw new Error(`QMP: could not connect to ${path} within ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ""}`);
  }

  async #open(path, timeoutMs) {
    const greeting = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { sock.destroy(); reject(new Error("QMP: no greeting")); }, Math.max(timeoutMs, 100));
      const sock = connect(path);
      this.#socket = sock;
      sock.setEncoding("utf8");
      sock.once("error", (e) => { clearTimeout(timer); reject(e); });
      this.#onGreeting = (msg) => { clearTimeout(timer); resolve(msg); };
      sock.on("data", (chunk) => this.#onData(chunk));
      sock.on("close", () => this.#onClose());
    });
    this.version = greeting?.QMP?.version?.qemu ?? null;
    this.#socket.on("error", () => {}); // reported through #onClose
    await this.execute("qmp_capabilities", undefined, { timeoutMs: Math.max(timeoutMs, 1000) });
  }

  #onGreeting = null;

  #onData(chunk) {
    this.#buffer += chunk;
    let nl;
    while ((nl = this.#buffer.indexOf("\n")) >= 0) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (!line) continue;
      let msg;
      try { msg = JSON.parse(line); } catch { continue; }
      this.#dispatch(msg);
    }
  }

  #dispatch(msg) {
    if (msg.QMP && this.#onGreeting) {
      const f = this.#onGreeting;
      this.#onGreeting = null;
      f(msg);
    } else if (msg.event) {
      this.#events.push(msg);
      for (const w of [...this.#waiters]) {
        if (w.name === msg.event && w.predicate(msg)) this.#settleWaiter(w, null, msg);
      }
    } else if (msg.id !== undefined && this.#pending.has(msg.id)) {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new QmpError(p.command, msg.error));
      else p.resolve(msg.return);
    }
  }

  #settleWaiter(w, error, value) {
    clearTimeout(w.timer);
    this.#waiters = this.#waiters.filter((x) => x !== w);
    if (error) w.reject(error);
    else w.resolve(value);
  }

  #onClose() {
    this.#closed = true;
    const err = new Error("QMP: connection closed");
    for (const p of this.#pending.values()) { clearTimeout(p.timer); p.reject(err); }
    this.#pending.clear();
    for (const w of [...this.#waiters]) this.#settleWaiter(w, err);
  }

  /** Runs one QMP command; resolves with its `return` value, rejects with QmpError. */
  execute(command, args, { timeoutMs = 10000 } = {}) {
    if (this.#closed || !this.#socket) return Promise.reject(new Error("QMP: connection closed"));
    const id = this.#nextId++;
    const msg = { execute: command, id };
    if (args !== undefined) msg.arguments = args;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`QMP ${command}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer, command });
      this.#socket.write(JSON.stringify(msg) + "\n");
    });
  }

  /** Every event received so far (objects with `event`, `data`, `timestamp`). */
  get events() {
    return [...this.#events];
  }

  /** Waits for an event by name (one already received counts unless `fresh`). */
  waitEvent(name, { timeoutMs = 10000, predicate = () => true, fresh = false } = {}) {
    if (!fresh) {
      const seen = this.#events.find((e) => e.event === name && predicate(e));
      if (seen) return Promise.resolve(seen);
    }
    if (this.#closed) return Promise.reject(new Error("QMP: connection closed"));
    return new Promise((resolve, reject) => {
      const w = { name, predicate, resolve, reject, timer: null };
      w.timer = setTimeout(() => this.#settleWaiter(w, new Error(`QMP: no ${name} event within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push(w);
    });
  }

  /** Closes the connection; safe to call twice. */
  close() {
    if (this.#socket && !this.#socket.destroyed) this.#socket.destroy();
    this.#closed = true;
  }
}
