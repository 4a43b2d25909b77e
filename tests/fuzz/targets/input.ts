// Fuzz target: virtio-input. Events from the device (one update at a time, each with a
// SYN), reads through onEvent or onReadable + read(), LED writes on the statusq, while
// the device returns short (malformed) events and lies about its config on top of the
// transport's lies. Oracles: the events the application gets are, in order, events the
// device sent (a reset or a full queue may drop some, nothing is invented, reordered or
// changed); once the device behaves again an event comes through.

import { InputDeviceModel, keyboardModelOptions, tabletModelOptions } from "../../../platform/host/devices/input-device.js";
import { InputDriver } from "../../../drivers/input/input-driver.js";
import type { InputDevice } from "../../../drivers/input/input-device.js";
import type { InputEvent } from "../../../drivers/input/input-port.js";
import type { Args, Rand } from "../random.js";
import type { Driven, Target } from "../target.js";
import type { World } from "../world.js";
import { deviceState, reviveForProbe } from "./probe.js";
import { Sequence } from "./sequence.js";

const EV_MSC = 4;
const MSC_SCAN = 4;

function encode(e: InputEvent): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint16(0, e.type, true);
  v.setUint16(2, e.code, true);
  v.setInt32(4, e.value, true);
  return b;
}

class InputDriven implements Driven {
  readonly #w: World;
  readonly #model: InputDeviceModel;
  readonly #driver: InputDriver;
  readonly #events: Sequence;
  readonly #pull: boolean;
  #device: InputDevice | null = null;
  #tag = 1;
  #throwing = false;
  #probeTag = -1;
  #probeSeen = false;

  constructor(w: World, model: InputDeviceModel, driver: InputDriver, pull: boolean) {
    this.#w = w;
    this.#model = model;
    this.#driver = driver;
    this.#pull = pull;
    this.#events = new Sequence(w, "input events");
  }

  #got(e: InputEvent): void {
    if (e.type === 0) return; // EV_SYN: the same in every update
    if (e.type === EV_MSC && e.value === this.#probeTag) this.#probeSeen = true;
    this.#events.got(e.type === EV_MSC ? e.value : null, encode(e));
  }

  #open(): InputDevice | null {
    if (this.#device) return this.#device;
    if (this.#driver.ports().length === 0) return null;
    const self = this;
    const options = this.#pull
      ? {
        onReadable(this: InputDevice) {
          for (let e = this.read(); e !== undefined; e = this.read()) self.#got(e);
          if (self.#throwing) throw new Error("fuzz: onReadable threw");
        },
        onError() {},
      }
      : {
        onEvent(e: InputEvent) {
          self.#got(e);
          if (self.#throwing) throw new Error("fuzz: onEvent threw");
        },
        onError() {},
      };
    this.#device = this.#w.call("open()", () => this.#driver.open(options)) ?? null;
    return this.#device;
  }

  run(action: string, a: Args): void {
    const d = this.#open();
    switch (action) {
      case "event": {
        const n = a.pick([1, 1, 2, 5]);
        const events: InputEvent[] = [];
        for (let i = 0; i < n; i++) {
          const e = { type: EV_MSC, code: MSC_SCAN, value: this.#tag++ };
          events.push(e);
          this.#events.sent(e.value, encode(e));
        }
        this.#model.inject(events);
        return;
      }
      case "led":
        if (d) this.#w.call("setLed()", () => d.setLed(a.int(0, 2), a.chance(50)));
        return;
      case "read":
        if (d && this.#pull) this.#w.call("read()", () => {
          for (let e = d.read(); e !== undefined; e = d.read()) this.#got(e);
        });
        return;
      case "lie-short":
        this.#model.shortEventLength = a.pick([undefined, undefined, 0, 4, 7]);
        return;
      case "lie-size":
        this.#model.sizeOverride = a.pick([undefined, 0, 200, 255]);
        return;
      case "throwing-callbacks":
        this.#throwing = !this.#throwing;
        return;
    }
  }

  heal(): void {
    this.#model.shortEventLength = undefined;
    this.#model.sizeOverride = undefined;
    // A device that behaves does not hold for ever an update its eventq can never hold (a
    // QueueNumMax lie at a re-init may have left the queue smaller than the largest update
    // sent, 5 events and SYN): it drops it, as QEMU does, and the probe's event follows.
    this.#model.eventqSize = () => this.#w.dev.queue(0).num;
    this.#throwing = false;
  }

  async probe(): Promise<void> {
    const w = this.#w;
    if ((await reviveForProbe(w, this.#driver.ports()[0])) !== "ready") return;
    const d = this.#open();
    const live = this.#driver.ports()[0];
    if (!d || !live || !live.live) return w.report("no-recovery", `no working input device after a restart of a behaving device (${deviceState(w)})`);
    this.#probeTag = this.#tag++;
    const e = { type: EV_MSC, code: MSC_SCAN, value: this.#probeTag };
    this.#events.sent(e.value, encode(e));
    this.#model.inject([e]);
    await w.run(5000, () => {
      if (this.#pull) for (let x = d.read(); x !== undefined; x = d.read()) this.#got(x);
      return this.#probeSeen;
    });
    if (!this.#probeSeen) (w.lostChains || w.report("no-recovery", "an event (probe) never reached the application after the device behaved again"));
  }

  check(): void {}

  release(): void {
    if (this.#device) this.#w.call("close()", () => this.#device!.close());
    this.#w.call("close() twice", () => this.#device?.close());
  }
}

export const inputTarget: Target = {
  kind: "input",
  actions: [["event", 10], ["led", 2], ["read", 2], ["lie-short", 1], ["lie-size", 1], ["throwing-callbacks", 1]],
  async setup(w: World, version: 1 | 2, r: Rand): Promise<Driven> {
    const model = new InputDeviceModel({ ...(r.chance(0.5) ? keyboardModelOptions() : tabletModelOptions()), queueMaxSize: r.pick([8, 64]) });
    w.attach(model, version, { indirect: r.chance(0.5), eventIdx: r.chance(0.6), processing: r.pick(["sync", "async"] as const) });
    // At least as many event buffers as the largest update has events (5 + SYN): a device
    // holds (QEMU: drops) an update it has no room for.
    const driver = new InputDriver({ queueSize: r.pick([8, 64]), eventBuffers: r.pick([8, 64]), maxQueued: r.pick([4, 256]) });
    await w.bus.register(driver);
    return new InputDriven(w, model, driver, r.chance(0.5));
  },
};
