// The strict gpu model (platform/host/devices/gpu-device.ts) driven by hand: request sizes
// and response buffers a driver gets wrong are recorded and answered as QEMU does.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { GpuDevice } from "../../../platform/host/devices/gpu-device.js";
import { rig, rules } from "../host/setup.js";

const GET_DISPLAY_INFO = 0x0100;
const OK_DISPLAY_INFO = 0x1101;
const ERR_UNSPEC = 0x1200;

for (const version of [1, 2] as const) {
  test(`v${version}: a short request and a small response buffer are violations, a good one is answered`, async () => {
    const { model, d } = rig(version, new GpuDevice({ width: 64, height: 48 }), {}, { ramSize: 4 << 20, dmaSize: 2 << 20 });
    const q = d.bringUp(8);
    const ask = async (reqLen: number, respLen: number): Promise<{ len: number; type: number; view: DataView }> => {
      const req = d.buffer(reqLen);
      new DataView(req.bytes.buffer, req.bytes.byteOffset, reqLen).setUint32(0, GET_DISPLAY_INFO, true);
      const resp = d.buffer(respLen);
      d.post(q, [{ addr: req.addr, len: reqLen }, { addr: resp.addr, len: respLen, write: true }]);
      d.notify(q);
      await model.settle();
      const [used] = d.takeUsed(q);
      const view = new DataView(resp.bytes.buffer, resp.bytes.byteOffset, respLen);
      return { len: used!.len, type: view.getUint32(0, true), view };
    };
    const short = await ask(20, 408);
    assert.is(short.type, ERR_UNSPEC);
    assert.equal(rules(model), ["gpu-request-size"]);
    model.clearViolations();
    const small = await ask(24, 100);
    assert.is(small.len, 100, "as much as fits");
    assert.equal(rules(model), ["gpu-response-buffer"]);
    model.clearViolations();
    const good = await ask(24, 408);
    assert.is(good.type, OK_DISPLAY_INFO);
    assert.is(good.len, 408);
    assert.is(good.view.getUint32(24 + 8, true), 64);
    assert.is(good.view.getUint32(24 + 12, true), 48);
    assert.is(good.view.getUint32(24 + 16, true), 1, "enabled");
    model.assertNoViolations();
  });
}

test.run();
