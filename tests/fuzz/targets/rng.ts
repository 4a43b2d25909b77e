// Fuzz target: virtio-rng. read(n) and fill(buffer) of random lengths while the device
// returns short, empty or late. Oracles: a resolved request holds only bytes the device
// wrote (the device never writes 0 here; the driver's buffers start at 0) and never more
// than it served; the caller's buffer does not change once its call settled; once the
// device behaves again a read works.

import { RngDevice } from "../../../platform/host/index.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { DeviceBrokenError } from "../../../drivers/virtio/errors.js";
import type { Args, Rand } from "../random.js";
import type { Driven, Target } from "../target.js";
import { describeError, type World } from "../world.js";

class RngDriven implements Driven {
  readonly #w: World;
  readonly #device: RngDevice;
  readonly #driver: RngDriver;
  readonly #shortReturns: number | undefined;
  #delivered = 0;
  #served = 0;

  constructor(w: World, device: RngDevice, driver: RngDriver, served: () => number) {
    this.#w = w;
    this.#device = device;
    this.#driver = driver;
    this.#shortReturns = device.maxLength;
    this.#servedNow = served;
  }

  readonly #servedNow: () => number;

  /** The handle last seen (after an unbind it says why). */
  #handle: ReturnType<RngDriver["devices"]>[number] | undefined;

  run(action: string, a: Args): void {
    const rng = this.#driver.devices()[0];
    if (rng) this.#handle = rng;
    switch (action) {
      case "read": {
        if (!rng) return;
        const n = a.pick([0, 1, 16, 64, 333, 4096, 10_000]);
        const what = `read(${n})`;
        this.#w.track(what, rng.read(n), (data) => this.#delivered_(what, data));
        return;
      }
      case "fill": {
        if (!rng) return;
        const buffer = new Uint8Array(a.pick([1, 32, 512, 3000]));
        const what = `fill(${buffer.length})`;
        this.#w.track(what, rng.fill(buffer), (data) => {
          if (data !== buffer) this.#w.report("data-mismatch", `${what} resolved with another buffer`);
          this.#delivered_(what, data);
        }, () => this.#w.watch.protect(`${what} (rejected)`, buffer));
        return;
      }
      case "lie-short":
        this.#device.maxLength = a.pick([undefined, undefined, 0, 1, 7, 100]);
        return;
    }
  }

  #delivered_(what: string, data: Uint8Array): void {
    this.#w.watch.protect(what, data);
    const zero = data.indexOf(0);
    if (zero !== -1) this.#w.report("data-mismatch", `${what}: byte ${zero} of ${data.length} was never written by the device`);
    this.#delivered += data.length;
    this.#served = this.#servedNow();
    if (this.#delivered > this.#served) this.#w.report("data-mismatch", `${this.#delivered} bytes delivered, the device served ${this.#served}`);
  }

  heal(): void {
    this.#device.maxLength = this.#shortReturns;
  }

  async probe(): Promise<void> {
    const w = this.#w;
    const vd = w.bus.device(w.dev.slot);
    if (!vd) return w.report("no-recovery", "the bus lost the device");
    let rng = this.#driver.devices()[0];
    if ((rng ?? this.#handle)?.broken instanceof DeviceBrokenError) return;
    if (!rng || rng.broken || !vd.live) {
      w.track("device.restart() (probe)", vd.restart());
      await w.run(60_000, () => w.pending.size === 0);
      rng = this.#driver.devices()[0];
    }
    if (!rng) return w.report("no-recovery", `no RngDevice after a restart of a behaving device (${vd.error ? describeError(vd.error) : vd.step})`);
    let outcome = "pending";
    w.track("read(32) (probe)", rng.read(32), (data) => {
      outcome = data.indexOf(0) === -1 ? "ok" : "data";
    }, (e) => {
      outcome = e instanceof DeviceBrokenError ? "ok" : describeError(e);
    });
    await w.run(60_000, () => outcome !== "pending");
    if (outcome === "data") w.report("data-mismatch", "read(32) (probe): bytes the device never wrote");
    else if (outcome !== "ok") w.report("no-recovery", `read(32) (probe) after the device behaved again: ${outcome}`);
  }

  check(): void {}

  release(): void {}
}

export const rngTarget: Target = {
  kind: "rng",
  actions: [["read", 10], ["fill", 4], ["lie-short", 2]],
  async setup(w: World, version: 1 | 2, r: Rand): Promise<Driven> {
    let served = 0;
    const device = new RngDevice({
      // Never 0: a 0 in a resolved request is a byte the device did not write.
      source: (n) => {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = ((served + i) % 255) + 1;
        served += n;
        return out;
      },
      delayTurns: r.pick([0, 0, 1, 3]),
      outOfOrder: r.chance(0.4),
      queueMaxSize: r.pick([16, 64, 1024]),
    });
    device.maxLength = r.chance(0.3) ? r.pick([16, 100, 1000]) : undefined;
    w.attach(device, version, { indirect: r.chance(0.5), eventIdx: r.chance(0.6), processing: r.pick(["sync", "async"] as const) });
    const driver = new RngDriver({
      chunkSize: r.pick([13, 64, 333, 4096]),
      queueSize: r.pick([2, 4, 16, 64]),
      timeoutMs: r.pick([50, 200, 1000]),
    });
    await w.bus.register(driver);
    return new RngDriven(w, device, driver, () => served);
  },
};
