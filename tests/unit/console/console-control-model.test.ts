// The host model's control side (platform/host/devices/console-control-model.ts) driven
// by hand, as a misbehaving driver would: what it must record as violations (§5.3.6.2).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { CONSOLE_CONTROL as C, ConsoleControlModel } from "../../../platform/host/devices/console-control-model.js";
import type { DeviceContext } from "../../../platform/host/device-model.js";

function harness() {
  const violations: string[] = [];
  const tx: { bytes: Uint8Array }[] = [];
  const rxWritten: Uint8Array[] = [];
  const ctx = {
    takeChain: (queue: number) => {
      if (queue === 3) {
        const next = tx.shift();
        if (!next) return null;
        return { head: 0, readable: [{}], writable: [], read: () => next.bytes };
      }
      return null;
    },
    complete: () => undefined,
    later: (fn: () => void) => fn(),
    violation: (rule: string) => violations.push(rule),
  } as unknown as DeviceContext;
  const model = new ConsoleControlModel(() => ctx, 2, 3, [{ id: 0, console: true }, { id: 1, name: "a" }], () => undefined);
  const send = (id: number, event: number, value = 0, size = 8) => {
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    if (size >= 8) {
      view.setUint32(0, id, true);
      view.setUint16(4, event, true);
      view.setUint16(6, value, true);
    }
    tx.push({ bytes });
    model.process(3);
  };
  return { model, violations, send, rxWritten };
}

test("PORT_READY or PORT_OPEN before DEVICE_READY are violations", () => {
  const h = harness();
  h.send(1, C.PORT_READY, 1);
  h.send(1, C.PORT_OPEN, 1);
  assert.equal(h.violations, ["console-control-before-ready", "console-control-before-ready"]);
});

test("DEVICE_READY twice, PORT_READY for a port never added or twice, PORT_OPEN of an unready port", () => {
  const h = harness();
  h.send(0, C.DEVICE_READY, 1);
  assert.equal(h.violations, []);
  assert.is(h.model.port(1)?.added, true, "the configured ports were added");
  h.send(0, C.DEVICE_READY, 1);
  h.send(5, C.PORT_READY, 1);
  h.send(1, C.PORT_OPEN, 1);
  h.send(1, C.PORT_READY, 1);
  h.send(1, C.PORT_READY, 1);
  h.send(1, C.PORT_OPEN, 2);
  assert.equal(h.violations, ["console-device-ready-twice", "console-port-ready-unknown", "console-port-open-unknown", "console-port-ready-twice", "console-port-open-value"]);
});

test("a control message not 8 bytes, and a device-only event from the driver", () => {
  const h = harness();
  h.send(0, C.DEVICE_READY, 1);
  h.send(0, 0, 0, 12);
  h.send(1, C.DEVICE_ADD);
  assert.equal(h.violations, ["console-control-size", "console-control-event"]);
});

test.run();
