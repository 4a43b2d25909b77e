// Fuzz target: virtio-console through the ECMA-419 Serial. write() of every size (some
// too big for the room there is), read() as bytes arrive, input bursts from the host,
// size changes, short receive buffers, callbacks that throw, on top of the transport's
// lies. Oracles: the bytes the device got are, in order, bytes the API accepted; the
// bytes read are, in order, bytes the host typed (a reset may drop what was in flight,
// nothing is invented or reordered); once the device behaves again bytes go both ways.

import { ConsoleDeviceModel } from "../../../platform/host/devices/console-device.js";
import { ConsoleDriver } from "../../../drivers/console/console-driver.js";
import type { Serial } from "../../../drivers/console/serial.js";
import type { Args, Rand } from "../random.js";
import type { Driven, Target } from "../target.js";
import type { World } from "../world.js";
import { deviceState, reviveForProbe } from "./probe.js";

/** Greedy check that `got` is a subsequence of `sent` from `from`; returns where it ended, or -1. */
function subsequence(sent: readonly number[], got: Uint8Array, from: number): number {
  let at = from;
  for (const b of got) {
    while (at < sent.length && sent[at] !== b) at++;
    if (at >= sent.length) return -1;
    at++;
  }
  return at;
}

class ConsoleDriven implements Driven {
  readonly #w: World;
  readonly #model: ConsoleDeviceModel;
  readonly #driver: ConsoleDriver;
  #serial: Serial | null = null;
  readonly #sent: number[] = [];
  readonly #typed: number[] = [];
  #sentAt = 0;
  #typedAt = 0;
  #counter = 0;
  #throwing = false;
  readonly #maxPerBuffer: number | undefined;

  constructor(w: World, model: ConsoleDeviceModel, driver: ConsoleDriver) {
    this.#w = w;
    this.#model = model;
    this.#driver = driver;
    this.#maxPerBuffer = model.maxPerBuffer;
    model.onOutput = (bytes) => {
      const end = subsequence(this.#sent, bytes, this.#sentAt);
      if (end < 0) this.#w.report("data-mismatch", `the device got ${bytes.length} bytes the console never accepted in that order`);
      else this.#sentAt = end;
    };
  }

  /** The open Serial (opened once the port is there). */
  #open(): Serial | null {
    if (this.#serial) return this.#serial;
    if (this.#driver.ports().length === 0) return null;
    const self = this;
    this.#serial = this.#w.call("open()", () => this.#driver.open({
      onReadable() {
        self.#read();
        if (self.#throwing) throw new Error("fuzz: onReadable threw");
      },
      onWritable() {
        if (self.#throwing) throw new Error("fuzz: onWritable threw");
      },
      onError() {},
    })) ?? null;
    return this.#serial;
  }

  #read(): void {
    const s = this.#serial;
    if (!s) return;
    const data = this.#w.call("read()", () => s.read());
    if (!(data instanceof ArrayBuffer)) return;
    const bytes = new Uint8Array(data);
    const end = subsequence(this.#typed, bytes, this.#typedAt);
    if (end < 0) this.#w.report("data-mismatch", `read() returned ${bytes.length} bytes the host never typed in that order`);
    else this.#typedAt = end;
  }

  #bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (this.#counter++ % 251) + 1;
    return b;
  }

  run(action: string, a: Args): void {
    const s = this.#open();
    switch (action) {
      case "write": {
        if (!s) return;
        const data = this.#bytes(a.pick([1, 10, 511, 512, 513, 2000, 5000]));
        let ok = false;
        for (const b of data) this.#sent.push(b); // before: a device may take them inside write()
        this.#w.call(`write(${data.length} bytes)`, () => {
          s.write(data);
          ok = true;
        });
        if (!ok) this.#sent.length -= data.length;
        this.#w.watch.protect(`write(${data.length} bytes)`, data);
        return;
      }
      case "read":
        return this.#read();
      case "type": {
        const data = this.#bytes(a.pick([1, 5, 100, 600, 3000]));
        for (const b of data) this.#typed.push(b);
        this.#model.push(data);
        return;
      }
      case "lie-short":
        this.#model.maxPerBuffer = a.pick([undefined, 1, 3, 100]);
        return;
      case "resize":
        this.#model.setSize(a.int(0, 0xffff), a.int(0, 0xffff));
        return;
      case "throwing-callbacks":
        this.#throwing = !this.#throwing;
        return;
    }
  }

  heal(): void {
    this.#model.maxPerBuffer = this.#maxPerBuffer;
    this.#throwing = false;
  }

  async probe(): Promise<void> {
    const w = this.#w;
    if ((await reviveForProbe(w, this.#driver.ports()[0])) !== "ready") return;
    const s = this.#open();
    const live = this.#driver.ports()[0];
    if (!s || !live || !live.live) return w.report("no-recovery", `no working console after a restart of a behaving device (${deviceState(w)})`);
    // Longer than the transmit watchdog (txTimeoutMs, 5 s): buffers the device kept come back by then.
    await w.run(12_000, () => live.writable >= 64);
    // Out: 64 bytes must reach the device.
    // Bytes accepted before and not delivered by now were lost to a reset: forget them.
    this.#sentAt = this.#sent.length;
    const out = this.#bytes(64);
    const before = this.#sentAt;
    let ok = false;
    for (const b of out) this.#sent.push(b);
    w.call("write (probe)", () => {
      s.write(out);
      ok = true;
    });
    if (!ok) return w.report(w.lostChains ? "tx-stuck-after-lost-buffers" : "no-recovery", `write (probe) refused after the device behaved again (writable ${live.writable})`);
    // In: 64 bytes typed must be read. Bytes the device took before and did not deliver
    // by now went with a broken queue or a reset: only what it still holds back comes first.
    this.#read();
    this.#typedAt = Math.max(this.#typedAt, this.#typed.length - this.#model.pendingInput);
    const typedBefore = this.#typedAt;
    const input = this.#bytes(64);
    for (const b of input) this.#typed.push(b);
    this.#model.push(input);
    await w.run(5000, () => this.#sentAt >= before + 64 && this.#typedAt >= typedBefore + 64);
    this.#read();
    if (this.#sentAt < this.#sent.length) w.report(w.lostChains ? "tx-stuck-after-lost-buffers" : "no-recovery", `write (probe): ${this.#sent.length - this.#sentAt} bytes never reached the device`);
    if (this.#typedAt < this.#typed.length) (w.lostChains || w.report("no-recovery", `typed bytes (probe): ${this.#typed.length - this.#typedAt} never read`));
  }

  check(): void {}

  release(): void {
    if (this.#serial) this.#w.call("close()", () => this.#serial!.close());
    this.#w.call("close() twice", () => this.#serial?.close());
  }
}

export const consoleTarget: Target = {
  kind: "console",
  actions: [["write", 10], ["read", 3], ["type", 6], ["lie-short", 1], ["resize", 1], ["throwing-callbacks", 1]],
  async setup(w: World, version: 1 | 2, r: Rand): Promise<Driven> {
    const model = new ConsoleDeviceModel({
      size: r.chance(0.5) ? { cols: 80, rows: 25 } : undefined,
      multiport: r.chance(0.3),
      emergWrite: r.chance(0.3),
      maxPerBuffer: r.pick([undefined, undefined, 7]),
      queueMaxSize: r.pick([4, 16, 1024]),
    });
    w.attach(model, version, { indirect: r.chance(0.5), eventIdx: r.chance(0.6), processing: r.pick(["sync", "async"] as const) });
    const driver = new ConsoleDriver({ queueSize: r.pick([2, 8, 64]), rxBuffers: r.pick([1, 8]), txBuffers: r.pick([1, 8]) });
    await w.bus.register(driver);
    return new ConsoleDriven(w, model, driver);
  },
};
