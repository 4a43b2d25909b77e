// virtio-console on QEMU (virtio-serial-device + virtconsole on a unix socket), legacy and
// modern: `console write` reaches the host; `console echo` sends back what the host
// writes until a line `quit`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "node:net";
import { bootShell } from "./lib/firmware.mjs";

/** Connects to the console socket; collects what arrives; `until(re)` waits for it. */
async function hostEnd(path) {
  const sock = connect(path);
  await new Promise((resolve, reject) => { sock.once("connect", resolve); sock.once("error", reject); });
  let got = "";
  const waiters = [];
  sock.on("data", (b) => {
    got += b.toString("latin1");
    for (const w of [...waiters]) if (w.re.test(got)) { waiters.splice(waiters.indexOf(w), 1); clearTimeout(w.t); w.resolve(got); }
  });
  return {
    sock,
    get text() { return got; },
    until(re, ms = 10000) {
      if (re.test(got)) return Promise.resolve(got);
      return new Promise((resolve, reject) => {
        const w = { re, resolve, t: setTimeout(() => reject(new Error(`console: no ${re} in ${JSON.stringify(got.slice(-2000))}`)), ms) };
        w.t.unref(); // a failed test must not keep the run alive
        waiters.push(w);
      });
    },
  };
}

for (const legacy of [false, true]) {
  const mode = legacy ? "legacy" : "modern";
  test(`${mode}: console write and console echo`, async () => {
    const m = await bootShell({ legacy, devices: [{ console: true }] });
    let host;
    try {
      host = await hostEnd(m.consoles[0]);
      const w = await m.command("console write hello from the guest");
      assert.is(w.status, 0, w.output);
      await host.until(/hello from the guest/);

      const echo = await m.begin("console echo");
      await echo.waitFor(/echoing/, 10000);
      const text = "the quick brown fox " + "0123456789".repeat(30) + "\n";
      host.sock.write(text);
      await host.until(/0123456789\n/);
      assert.ok(host.text.includes(text), "echoed intact");
      // 16 KiB at once: far more than the receive buffers (8 x 512) hold; flow control
      // keeps the rest in QEMU until the echo catches up.
      let big = "";
      for (let i = 0; big.length < 16384; i++) big += `line ${i} ${"abcdefghij".repeat(i % 9)}\n`;
      host.sock.write(big + "end of big\n");
      await host.until(/end of big\n/, 20000);
      assert.ok(host.text.includes(big), "the 16 KiB came back intact and in order");
      host.sock.write("quit\n");
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
      host?.sock.destroy();
      await m.close();
    }
  });
}

test.run();
