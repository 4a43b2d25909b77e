// The virtio-net device model's own rules (§5.1.6): a hand-written driver breaks each one
// on purpose and the model records it as a violation; a correct one records nothing.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHostModel } from "../../../platform/host/index.js";
import { VirtioNetModel } from "../../../platform/host/devices/net-device.js";
import { createBus } from "../../../apps/bus.js";
import type { VirtioDevice } from "../../../drivers/virtio/device.js";
import type { VirtioDriver } from "../../../drivers/virtio/driver.js";
import type { DmaBuffer } from "../../../platform/platform.js";
import type { BufferRef, Virtqueue } from "../../../ring/virtqueue.js";

/** `buf(len)`: a zeroed DMA buffer as a descriptor; `raw(len)`: the DMA buffer itself. */
type Post = (rx: Virtqueue<number>, tx: Virtqueue<number>, buf: (len: number) => BufferRef, raw: (len: number) => DmaBuffer) => void;

/** Boots a model with a driver whose ready() runs `post`; returns the violation rules. */
async function rules(version: 1 | 2, post: Post): Promise<string[]> {
  const model = createHostModel({ ramSize: 4 << 20, dmaSize: 2 << 20 });
  const nic = new VirtioNetModel();
  model.attach(31, nic, { version });
  const bus = createBus(model.platform);
  const queues: Virtqueue<number>[] = [];
  const driver: VirtioDriver = {
    name: "hand-net",
    deviceIds: [1],
    features: () => 0n,
    probe(device: VirtioDevice) {
      queues.push(device.createQueue<number>(0, { size: 16, onUsed: () => {} }));
      queues.push(device.createQueue<number>(1, { size: 16, onUsed: () => {} }));
    },
    ready(device: VirtioDevice) {
      const raw = (len: number): DmaBuffer => {
        const d = device.platform.dma.alloc(len, 16);
        d.bytes.fill(0);
        return d;
      };
      const buf = (len: number): BufferRef => ({ phys: raw(len).phys, len });
      post(queues[0]!, queues[1]!, buf, raw);
      queues[0]!.kick();
      queues[1]!.kick();
    },
    remove() {
      for (const q of queues) q.detachAll();
    },
  };
  await bus.register(driver);
  await bus.scan();
  nic.deliver(new Uint8Array(60));
  await model.settle();
  const found = model.violationRules();
  model.platform.powerOff();
  return found;
}

const H = 12; // VERSION_1 header

test("a correct receive buffer and transmit chain: no violation", async () => {
  const found = await rules(2, (rx, tx, buf) => {
    rx.add([], [buf(H + 1514)], 1);
    tx.add([buf(H + 60)], [], 2);
  });
  assert.equal(found, []);
});

test("receive buffer too small, or with a readable part: violations", async () => {
  assert.ok((await rules(2, (rx, _tx, buf) => rx.add([], [buf(H + 100)], 1))).includes("net-rx-buffer-small"));
  assert.ok((await rules(2, (rx, _tx, buf) => rx.add([buf(16)], [buf(H + 1514)], 1))).includes("net-rx-readable"));
});

test("transmit: writable descriptors, bad sizes, a non-zero header: violations (both versions)", async () => {
  for (const version of [1, 2] as const) {
    const h = version === 2 ? 12 : 10;
    assert.ok((await rules(version, (_rx, tx, buf) => tx.add([buf(h + 60)], [buf(16)], 1))).includes("net-tx-writable"));
    assert.ok((await rules(version, (_rx, tx, buf) => tx.add([buf(h + 10)], [], 1))).includes("net-tx-size"));
    assert.ok((await rules(version, (_rx, tx, buf) => tx.add([buf(h + 1515)], [], 1))).includes("net-tx-size"));
  }
  // flags = VIRTIO_NET_HDR_F_NEEDS_CSUM without VIRTIO_NET_F_CSUM negotiated (§5.1.6.2.1)
  const found = await rules(2, (_rx, tx, _buf, raw) => {
    const d = raw(H + 60);
    d.bytes[0] = 1;
    tx.add([{ phys: d.phys, len: H + 60 }], [], 1);
  });
  assert.ok(found.includes("net-tx-header"), found.join());
});

test.run();
