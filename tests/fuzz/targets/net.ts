// Fuzz target: virtio-net. write(frame) of every size (some not frames at all), frames
// arriving from the wire, link changes, close(), callbacks that throw, while the device
// lies about receive lengths (malformed frames) on top of the transport's lies.
// Oracles: frames on the wire are frames the API sent, in order, unchanged; frames the
// application receives are frames the wire delivered, in order (a prefix where the
// device lied about the length); the caller's frame is never changed; once the device
// behaves again a frame goes out and one comes in.

import { VirtioNetModel } from "../../../platform/host/devices/net-device.js";
import { NetDriver } from "../../../drivers/net/net-driver.js";
import type { NetDevice } from "../../../drivers/net/net-device.js";
import { DeviceBrokenError } from "../../../drivers/virtio/errors.js";
import type { Args, Rand } from "../random.js";
import type { Driven, Target } from "../target.js";
import { describeError, type World } from "../world.js";
import { Sequence } from "./sequence.js";

const PEER = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02];

function frame(length: number, tag: number, dst: Uint8Array | number[]): Uint8Array {
  const f = new Uint8Array(length);
  f.set(dst.slice(0, Math.min(6, length)), 0);
  if (length >= 12) f.set(PEER, 6);
  if (length >= 14) {
    f[12] = 0x88;
    f[13] = 0xb5; // local experimental EtherType
  }
  if (length >= 18) new DataView(f.buffer).setUint32(14, tag, true);
  for (let i = 18; i < length; i++) f[i] = (tag * 7 + i) & 0xff;
  return f;
}

const tagOf = (f: Uint8Array): number | null => (f.length >= 18 ? new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(14, true) : null);

class NetDriven implements Driven {
  readonly #w: World;
  readonly #nic: VirtioNetModel;
  readonly #driver: NetDriver;
  readonly #tx: Sequence;
  readonly #rx: Sequence;
  #bound: NetDevice | null = null;
  #tag = 1;
  #lengthLied = false;
  #throwing = false;
  #closed = false;
  #probeIn: number | null = null;
  #probeInSeen = false;

  constructor(w: World, nic: VirtioNetModel, driver: NetDriver) {
    this.#w = w;
    this.#nic = nic;
    this.#driver = driver;
    this.#tx = new Sequence(w, "frames on the wire");
    this.#rx = new Sequence(w, "frames received");
  }

  /** The NetDevice, with the fuzzer's callbacks on it. */
  get #net(): NetDevice | undefined {
    const net = this.#driver.devices()[0];
    if (net && net !== this.#bound && !this.#closed) {
      this.#bound = net;
      net.onReadable = (f) => {
        const tag = tagOf(f);
        if (tag !== null && tag === this.#probeIn) this.#probeInSeen = true;
        this.#rx.got(tag, f, this.#lengthLied);
        if (this.#throwing) throw new Error("fuzz: onReadable threw");
      };
      net.onWritable = () => {
        if (this.#throwing) throw new Error("fuzz: onWritable threw");
      };
      net.onError = () => {};
      net.onLinkChange = () => {};
    }
    return net;
  }

  run(action: string, a: Args): void {
    const net = this.#net;
    switch (action) {
      case "send": {
        if (!net || this.#closed) return;
        const length = a.pick([14, 18, 60, 600, 1514, 13, 1515, 0]);
        const tag = this.#tag++;
        const f = frame(length, tag, net.mac);
        let ok = false;
        this.#tx.sent(tagOf(f), f);
        this.#w.call(`write(${length}-byte frame)`, () => {
          net.write(f);
          ok = true;
        });
        if (!ok) this.#tx.unsend(tagOf(f));
        this.#w.watch.protect(`write(${length}-byte frame)`, f);
        return;
      }
      case "deliver": {
        const tag = this.#tag++;
        const f = frame(a.pick([14, 18, 60, 1000, 1514]), tag, net?.mac ?? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        this.#rx.sent(tagOf(f), f);
        this.#nic.deliver(f);
        return;
      }
      case "lie-rx-length":
        this.#lengthLied = true;
        this.#nic.nextRxLength = a.pick([0, 5, 11, 12, 25, 40, 1000]); // never past the buffer: usedLenExtra lies that way
        return;
      case "link":
        this.#nic.setLink(a.chance(60));
        return;
      case "throwing-callbacks":
        this.#throwing = !this.#throwing;
        return;
      case "close":
        if (!net || !a.chance(20)) return;
        this.#closed = true;
        net.close();
        this.#w.call("close() twice", () => net.close());
        return;
    }
  }

  #drainWire(): void {
    for (const f of this.#nic.transmitted.splice(0)) this.#tx.got(tagOf(f), f);
  }

  heal(): void {
    this.#nic.nextRxLength = null;
    this.#nic.setLink(true);
    this.#throwing = false;
  }

  async probe(): Promise<void> {
    const w = this.#w;
    this.#drainWire();
    if (this.#closed) return;
    const vd = w.bus.device(w.dev.slot);
    if (!vd) return w.report("no-recovery", "the bus lost the device");
    let net = this.#net;
    if ((net ?? this.#bound)?.broken instanceof DeviceBrokenError) return;
    if (!net || net.broken || !net.ready) {
      w.track("device.restart() (probe)", vd.restart());
      await w.run(60_000, () => w.pending.size === 0);
      net = this.#net;
    }
    if (!net || !net.ready) return w.report("no-recovery", `no working NetDevice after a restart of a behaving device (${vd.error ? describeError(vd.error) : vd.step})`);
    // Longer than the transmit watchdog (txTimeoutMs, 5 s): buffers the device kept come back by then.
    await w.run(12_000, () => net!.writable > 0);
    const tag = this.#tag++;
    const out = frame(100, tag, net.mac);
    let sent = false;
    this.#tx.sent(tag, out);
    w.call("write (probe)", () => {
      net!.write(out);
      sent = true;
    });
    if (!sent) return w.report(w.lostChains ? "tx-stuck-after-lost-buffers" : "no-recovery", `write (probe) refused after the device behaved again (${net.writable} slots)`);
    this.#probeIn = this.#tag++;
    const inFrame = frame(100, this.#probeIn, net.mac);
    this.#rx.sent(this.#probeIn, inFrame);
    this.#nic.deliver(inFrame);
    const seenOut = (): boolean => this.#nic.transmitted.some((f) => tagOf(f) === tag);
    await w.run(5000, () => seenOut() && this.#probeInSeen);
    if (!seenOut()) w.report(w.lostChains ? "tx-stuck-after-lost-buffers" : "no-recovery", "write (probe): the frame never reached the wire");
    if (!this.#probeInSeen) (w.lostChains || w.report("no-recovery", "a frame from the wire (probe) never reached onReadable"));
    this.#drainWire();
  }

  check(): void {
    this.#drainWire();
  }

  release(): void {}
}

export const netTarget: Target = {
  kind: "net",
  actions: [["send", 10], ["deliver", 8], ["lie-rx-length", 2], ["link", 1], ["throwing-callbacks", 1], ["close", 1]],
  async setup(w: World, version: 1 | 2, r: Rand): Promise<Driven> {
    const nic = new VirtioNetModel({
      offerMac: r.chance(0.8),
      offerStatus: r.chance(0.7),
      backlog: r.pick([4, 256]),
      queueMaxSize: r.pick([16, 64, 256]),
    });
    w.attach(nic, version, { indirect: r.chance(0.5), eventIdx: r.chance(0.6), processing: r.pick(["sync", "async"] as const) });
    const driver = new NetDriver({ rxBuffers: r.pick([1, 4, 64]), txSlots: r.pick([1, 4, 32]), maxRestarts: r.pick([0, 3, 100]) });
    await w.bus.register(driver);
    return new NetDriven(w, nic, driver);
  },
};
