// `js <expression>` in the firmware: values, awaited promises, exceptions that leave the
// shell up, and heap exhaustion that ends in an error, never a hang.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { QemuExitError, QemuFatalError, QemuTimeoutError } from "virtio-xs/hil";
import { bootShell } from "./lib/firmware.mjs";

let m;
test.before(async () => { m = await bootShell(); });
test.after(async () => { await m?.close(); });

test("js 6*7 prints 42", async () => {
  const r = await m.command("js 6*7");
  assert.is(r.status, 0);
  assert.is(r.output.trim().split("\n").pop().trim(), "42");
});

test("a promise is awaited: js Promise.resolve(5) prints 5", async () => {
  const r = await m.command("js Promise.resolve(5)");
  assert.is(r.status, 0);
  assert.is(r.output.trim().split("\n").pop().trim(), "5");
});

test("js null.x prints a TypeError, and the next command still runs", async () => {
  const r = await m.command("js null.x");
  assert.is(r.status, 1);
  assert.match(r.output, "TypeError");
  const next = await m.command("js 1+1");
  assert.is(next.status, 0);
  assert.match(next.output, /\b2\b/);
});

test("a rejected promise is reported as a failure", async () => {
  const r = await m.command("js Promise.reject(new RangeError('nope'))");
  assert.is(r.status, 1);
  assert.match(r.output, "nope");
});

test("exhausting the heap ends with an error, not a hang", async () => {
  let outcome;
  try {
    const r = await m.command("js { const a = []; for (;;) a.push(new ArrayBuffer(1 << 20)); }", { timeoutMs: 60000 });
    // The shell survived: the command failed with a message, and the shell still answers.
    assert.is(r.status, 1, r.output);
    assert.ok(r.output.length > 0, "an error message");
    const next = await m.command("js 6*7", { timeoutMs: 20000 });
    assert.match(next.output, /\b42\b/);
    outcome = "survived";
  } catch (e) {
    if (e instanceof QemuTimeoutError) throw e;
    // Or the firmware died cleanly: FATAL and power-off.
    assert.ok(e instanceof QemuFatalError || e instanceof QemuExitError, String(e));
    outcome = "died";
  }
  assert.ok(outcome);
});

test.run();
