// DeviceHandles (drivers/virtio/device-handles.ts): one handle per device, made at the
// first probe, kept across a reset, detached then forgotten at unbind.

import { test } from "uvu";
import * as assert from "uvu/assert";
import type { VirtioDevice } from "../../../drivers/virtio/device.js";
import { DeviceHandles, type DeviceHandle } from "../../../drivers/virtio/device-handles.js";
import type { RemoveReason } from "../../../drivers/virtio/driver.js";

class Handle implements DeviceHandle {
  readonly calls: string[] = [];
  constructor(readonly name: string) {}
  start(): void {
    this.calls.push("start");
  }
  detach(reason: RemoveReason): void {
    this.calls.push(`detach ${reason}`);
  }
}

/** Devices are only map keys here. */
const deviceA = { location: "a" } as unknown as VirtioDevice;
const deviceB = { location: "b" } as unknown as VirtioDevice;

test("obtain makes a handle once per device; a reset keeps it; unbind forgets it", () => {
  let made = 0;
  const handles = new DeviceHandles((device) => new Handle(`${device.location}${++made}`));
  const a = handles.obtain(deviceA);
  assert.is(handles.obtain(deviceA), a, "second probe: same handle");
  handles.start(deviceA);
  assert.is(handles.detach(deviceA, "reset"), a);
  assert.is(handles.obtain(deviceA), a, "probe after reset: same handle");
  handles.start(deviceA);
  const b = handles.obtain(deviceB);
  assert.equal(handles.values(), [a, b], "first-probe order");
  assert.equal(handles.entries(), [[deviceA, a], [deviceB, b]]);
  assert.is(handles.detach(deviceA, "unbind"), a);
  assert.equal(a.calls, ["start", "detach reset", "start", "detach unbind"]);
  assert.is(handles.get(deviceA), undefined);
  assert.equal(handles.values(), [b]);
  assert.is.not(handles.obtain(deviceA), a, "bound again: a new handle");
  assert.is(made, 3);
});

test("start and detach of a device never probed do nothing", () => {
  const handles = new DeviceHandles((device) => new Handle(device.location));
  handles.start(deviceA);
  assert.is(handles.detach(deviceA, "failed"), undefined);
  assert.equal(handles.values(), []);
});

test("a failed probe detaches but keeps the handle (the core may bind again)", () => {
  const handles = new DeviceHandles((device) => new Handle(device.location));
  const a = handles.obtain(deviceA);
  handles.detach(deviceA, "failed");
  assert.is(handles.get(deviceA), a);
  assert.equal(a.calls, ["detach failed"]);
});

test.run();
