// Multiport virtio-console on QEMU (VIRTIO 1.2 §5.3.6.2). The shell runs on the PL011
// UART (QEMU's stdio here); virtio-console is a separate device whose ports are unix
// sockets: `-device virtio-serial-device` with a virtconsole (port 0) and two named
// virtserialports (ports 1 and 2). Text written from the host to each named port reaches
// the Serial of that port only (`console echo NAME`) and comes back on the same socket;
// `console write NAME TEXT` reaches that socket only; `console ports` lists the ports by
// name; emergency write (emerg_wr) reaches port 0's socket. And port 0 alone on a device
// that does not offer MULTIPORT (`max_ports=1`) works as before.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsolePort } from "../../hil/console-port.mjs";
import { bootShell } from "./lib/firmware.mjs";

const dir = mkdtempSync(join(tmpdir(), "virtio-console-mp-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** -chardev arguments for unix-socket servers named `ids` in a fresh directory. */
function sockets(mode, ids) {
  const paths = Object.fromEntries(ids.map((id) => [id, join(dir, `${mode}-${id}.sock`)]));
  const args = ids.flatMap((id) => ["-chardev", `socket,id=${id},path=${paths[id]},server=on,wait=off`]);
  return { paths, args };
}

for (const legacy of [false, true]) {
  const mode = legacy ? "legacy" : "modern";
  test(`${mode}: two named ports and a console: each port's text reaches its own Serial and back`, async () => {
    const { paths, args } = sockets(mode, ["c0", "pa", "pb"]);
    const m = await bootShell({
      legacy,
      qemuArgs: args,
      devices: ["virtio-serial-device", "virtconsole,chardev=c0", "virtserialport,chardev=pa,name=org.test.a", "virtserialport,chardev=pb,name=org.test.b"],
    });
    const host = {};
    try {
      for (const id of ["c0", "pa", "pb"]) host[id] = await ConsolePort.connect(paths[id]);
      const devices = await m.command("devices");
      assert.match(devices.output, /console .*MULTIPORT/, devices.output);
      // The host ends connected: each port's PORT_OPEN 1 arrives shortly after.
      let ports = "";
      for (let i = 0; i < 50; i++) {
        ports = (await m.command("console ports")).output;
        if (/org\.test\.a\s+yes/.test(ports) && /org\.test\.b\s+yes/.test(ports)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(ports, /0\s+0\s+-\s+\S+\s+yes\s+live/, ports);
      assert.match(ports, /0\s+1\s+org\.test\.a\s+yes\s+no\s+live/, ports);
      assert.match(ports, /0\s+2\s+org\.test\.b\s+yes\s+no\s+live/, ports);

      // Guest -> host: each named port's socket gets its own text only.
      assert.is((await m.command("console write org.test.a hello port a")).status, 0);
      assert.is((await m.command("console write org.test.b hello port b")).status, 0);
      assert.is((await m.command("console write hello port 0")).status, 0);
      await host.pa.waitFor("hello port a\n");
      await host.pb.waitFor("hello port b\n");
      await host.c0.waitFor("hello port 0\n");
      assert.not.match(host.pa.text + host.c0.text, /port b/);
      assert.not.match(host.pb.text + host.c0.text, /port a/);

      // Host -> guest: text for b waits in QEMU while only a's Serial is open.
      const echoA = await m.begin("console echo org.test.a");
      await echoA.waitFor(/echoing port org\.test\.a/, 10000);
      await host.pb.write("for b only\n");
      const forA = "for a " + "0123456789".repeat(40) + "\n";
      await host.pa.write(forA);
      await host.pa.waitFor("0123456789\n");
      assert.ok(host.pa.text.includes(forA), "a's text came back on a, intact");
      await host.pa.write("quit\n");
      const ra = await echoA.finish({ timeoutMs: 10000 });
      assert.match(ra.output, new RegExp(`echo ended \\(quit\\): ${forA.length + 5} bytes echoed`));
      assert.not.match(host.pa.text, /for b only/, "b's text never reached a");

      const echoB = await m.begin("console echo org.test.b");
      await echoB.waitFor(/echoing port org\.test\.b/, 10000);
      await host.pb.waitFor("for b only\n");
      await host.pb.write("quit\n");
      const rb = await echoB.finish({ timeoutMs: 10000 });
      assert.match(rb.output, /echo ended \(quit\): 16 bytes echoed/);
      assert.not.match(host.pb.text, /0123456789/, "a's text never reached b");

      // Emergency write: emerg_wr, no queue; QEMU writes it to port 0's chardev.
      assert.is((await m.command("console emerg PANIC: emergency write")).status, 0);
      await host.c0.waitFor("PANIC: emergency write\n");

      const after = await m.command("devices");
      assert.not.match(after.output, /error:/, after.output);
    } finally {
      for (const h of Object.values(host)) h.close();
      await m.close();
    }
  });
}

test("port 0 alone (MULTIPORT not offered: max_ports=1) works as before", async () => {
  const { paths, args } = sockets("alone", ["c0"]);
  const m = await bootShell({ qemuArgs: args, devices: ["virtio-serial-device,max_ports=1", "virtconsole,chardev=c0"] });
  let host;
  try {
    host = await ConsolePort.connect(paths.c0);
    const devices = await m.command("devices");
    assert.match(devices.output, /console /, devices.output);
    assert.not.match(devices.output, /MULTIPORT/, "not offered, not negotiated");
    const ports = await m.command("console ports");
    assert.match(ports.output, /0\s+0\s+-\s+-\s+no\s+live/, ports.output);
    assert.is((await m.command("console write alone on port 0")).status, 0);
    await host.waitFor("alone on port 0\n");
    const echo = await m.begin("console echo");
    await echo.waitFor(/echoing the virtio console/, 10000);
    await host.write("ping 0\nquit\n");
    await host.waitFor("quit\n");
    const r = await echo.finish({ timeoutMs: 10000 });
    assert.match(r.output, /echo ended \(quit\): 12 bytes echoed/);
  } finally {
    host?.close();
    await m.close();
  }
});

test.run();
