// virtio-console on QEMU (virtio-serial-device + virtconsole on a unix socket), legacy and
// modern: `console write` reaches the host; `console echo` sends back what the host
// writes until a line `quit`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bootShell } from "./lib/firmware.mjs";

for (const legacy of [false, true]) {
  const mode = legacy ? "legacy" : "modern";
  test(`${mode}: console write and console echo`, async () => {
    const m = await bootShell({ legacy, consoles: 1 });
    try {
      const host = await m.console(0);
      const w = await m.command("console write hello from the guest");
      assert.is(w.status, 0, w.output);
      await host.waitFor(/hello from the guest/);

      const echo = await m.begin("console echo");
      await echo.waitFor(/echoing/, 10000);
      const text = "the quick brown fox " + "0123456789".repeat(30) + "\n";
      await host.write(text);
      await host.waitFor(/0123456789\n/);
      assert.ok(host.text.includes(text), "echoed intact");
      // 16 KiB at once: far more than the receive buffers (8 x 512) hold; flow control
      // keeps the rest in QEMU until the echo catches up.
      let big = "";
      for (let i = 0; big.length < 16384; i++) big += `line ${i} ${"abcdefghij".repeat(i % 9)}\n`;
      await host.write(big + "end of big\n");
      await host.waitFor(/end of big\n/, { timeoutMs: 20000 });
      assert.ok(host.text.includes(big), "the 16 KiB came back intact and in order");
      await host.write("quit\n");
      const r = await echo.finish({ timeoutMs: 10000 });
      assert.is(r.status, 0, r.output);
      assert.match(r.output, /echo ended \(quit\)/);
      // The shell is back, and the port counted what went through it.
      const info = await m.command("console info");
      assert.is(info.status, 0, info.output);
      assert.match(info.output, new RegExp(`received  ${text.length + big.length + 11 + 5} bytes`));
      const devices = await m.command("devices");
      assert.not.match(devices.output, /error:/, devices.output);
    } finally {
      await m.close(); // closes the host end too
    }
  });
}

test.run();
