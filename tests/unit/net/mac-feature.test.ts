// §5.1.5: when VIRTIO_NET_F_MAC is negotiated the driver MUST use the device's mac. A
// device whose mac is no usable unicast address (multicast, all zero) therefore does not
// get MAC accepted: the driver reads the config during negotiation (§3.1.1 step 4 allows
// reads) and drops the feature, then uses a random locally administered address.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { NetFeature } from "../../../drivers/net/net-spec.js";
import { finishNet, netRig } from "./net-rig.js";

const MAC_BIT = 1n << BigInt(NetFeature.MAC);

for (const version of [1, 2] as const) {
  for (const [what, mac] of [
    ["multicast", new Uint8Array([0x01, 0, 0x5e, 1, 2, 3])],
    ["all-zero", new Uint8Array(6)],
  ] as const) {
    test(`v${version}: a ${what} device MAC -> VIRTIO_NET_F_MAC not negotiated, a random MAC used`, async () => {
      const r = await netRig(version, { mac });
      assert.is(r.model.device(31)!.negotiatedFeatures & MAC_BIT, 0n, "MAC dropped from the accepted features");
      assert.is(r.bus.device(31)!.hasFeature(NetFeature.MAC), false);
      assert.not.ok(r.net.macFromDevice);
      assert.is(r.net.mac[0]! & 0x03, 0x02, "locally administered unicast");
      assert.match(r.bus.devices()[0]!.error ?? "", /MAC address/);
      assert.ok(r.net.ready);
      await finishNet(r);
    });
  }

  test(`v${version}: a good device MAC keeps VIRTIO_NET_F_MAC and is used`, async () => {
    const mac = new Uint8Array([0x52, 0x54, 0x00, 0xab, 0xcd, 0xef]);
    const r = await netRig(version, { mac });
    assert.is(r.model.device(31)!.negotiatedFeatures & MAC_BIT, MAC_BIT);
    assert.ok(r.net.macFromDevice);
    assert.equal([...r.net.mac], [...mac]);
    await finishNet(r);
  });
}

test.run();
