// TCP through the virtio driver and the strict device model, both transport versions:
// the firmware's stack (IpStack on a NetDevice) talks to a second IpStack on the model's
// far side, with loss, duplication, reordering and delay injected (seeded). Real timers,
// short RTOs. Every byte of an echo must come back once and in order.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { IpStack } from "../../../net/ip/ip-stack.js";
import type { Nic } from "../../../net/nic.js";
import { Listener } from "../../../net/tcp/listener.js";
import { tcpLayer } from "../../../net/tcp/tcp-layer.js";
import { TCP } from "../../../net/tcp/tcp-socket.js";
import type { VirtioNetModel } from "../../../platform/host/devices/net-device.js";
import { finishNet, netRig, PEER_MAC, until } from "./net-rig.js";
import { rng } from "./tcp-wire.js";
import { streamByte } from "./tcp-echo-rig.js";

const FAST = { minRtoMs: 20, initialRtoMs: 50, delayedAckMs: 5 };

async function echoThroughModel(version: 1 | 2, seed: number, loss: number, total: number) {
  const random = rng(seed);
  const impaired = (fn: () => void): void => {
    if (random() < loss) return;
    const copies = random() < loss ? 2 : 1;
    for (let i = 0; i < copies; i++) setTimeout(fn, random() < loss * 2 ? 2 + random() * 6 : 0);
  };
  let model: VirtioNetModel | null = null;
  const peerNic: Nic = {
    mac: PEER_MAC,
    mtu: 1500,
    linkUp: true,
    onReadable: null,
    onLinkChange: null,
    write(frame) {
      const copy = frame.slice();
      impaired(() => model?.deliver(copy));
    },
  };
  const r = await netRig(version, { peer: (frame) => impaired(() => peerNic.onReadable?.(frame)) }, { ip: { address: "10.0.2.15" } });
  model = r.nic;
  const ours = r.driver.interfaces()[0]!.stack!;
  tcpLayer(ours, FAST);
  const peer = new IpStack(peerNic, { address: "10.0.2.2" }, r.model.platform);
  tcpLayer(peer, FAST);
  // the firmware side serves an echo; the peer is the client
  const listener = new Listener({
    stack: ours,
    port: 7,
    onReadable() {
      const s = listener.read()!;
      let pending: Uint8Array | null = null;
      const pump = (): void => {
        for (;;) {
          if (pending === null) {
            const piece = s.writable === 0 ? undefined : s.read(s.writable);
            if (piece === undefined) return;
            pending = new Uint8Array(piece);
          }
          const n = Math.min(s.writable, pending.length);
          if (n === 0) return;
          s.write(pending.subarray(0, n));
          pending = n === pending.length ? null : pending.subarray(n);
        }
      };
      s.onReadable = s.onWritable = pump;
      s.onError = () => s.close();
      pump();
    },
  });
  let sent = 0;
  let echoed = 0;
  let mismatch = -1;
  const errors: string[] = [];
  const client: TCP = new TCP({
    stack: peer,
    address: "10.0.2.15",
    port: 7,
    onWritable() {
      while (sent < total && client.writable > 0) {
        const n = Math.min(client.writable, total - sent, 3000);
        const chunk = new Uint8Array(n);
        for (let k = 0; k < n; k++) chunk[k] = streamByte(sent + k);
        client.write(chunk);
        sent += n;
      }
    },
    onReadable() {
      for (let b = client.read(); b !== undefined; b = client.read()) {
        const bytes = new Uint8Array(b);
        for (let k = 0; k < bytes.length; k++) if (mismatch < 0 && bytes[k] !== streamByte(echoed + k)) mismatch = echoed + k;
        echoed += bytes.length;
      }
      if (echoed === total) client.close();
    },
    onError: (e) => errors.push(e.message),
  });
  await until(() => echoed === total || errors.length > 0, 60_000);
  await until(() => tcpLayer(ours).active === 0 && tcpLayer(peer).active === 0, 10_000);
  listener.close();
  const stats = tcpLayer(ours).stats;
  peer.close();
  await finishNet(r);
  return { echoed, mismatch, errors, stats, violations: r.model.violations };
}

for (const version of [2, 1] as const) {
  test(`virtio ${version === 2 ? "modern" : "legacy"}: 60 KB echoed through the model on a clean wire`, async () => {
    const res = await echoThroughModel(version, 1, 0, 60_000);
    assert.equal(res.errors, []);
    assert.is(res.echoed, 60_000);
    assert.is(res.mismatch, -1);
    assert.equal(res.violations, []);
  });
}

test("virtio modern: 100 KB echoed intact with 3% loss, duplication and reordering", async () => {
  const res = await echoThroughModel(2, 7, 0.03, 100_000);
  assert.equal(res.errors, []);
  assert.is(res.echoed, 100_000);
  assert.is(res.mismatch, -1);
  assert.ok(res.stats.retransmittedSegments > 0, JSON.stringify(res.stats));
  assert.equal(res.violations, []);
});

test.run();
