// Applications as a new user builds them (README "Write your own app"): the README's
// example copied out of the README into a fresh directory, built and booted; a type error
// stops the build with tsc's file(line,col) message; examples/udp-echo copied outside the
// tree and started with `npm start -- --app DIR`, a host UDP client getting its datagrams
// back; an app that includes the shell's manifest gets the shell beside it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "./lib/firmware.mjs";
import { bootApp } from "./lib/app.mjs";
import { buildApp } from "../../tools/lib/app-build.mjs";
import { loadAppManifest, moddefs } from "../../tools/lib/app-manifest.mjs";
import { freeUdpPort, udpRoundTrips } from "./lib/udp.mjs";
import { QemuMachine } from "../../tools/lib/qemu.mjs";
import { makeFilledImage } from "../../tools/lib/disk-image.mjs";

const scratch = mkdtempSync(join(tmpdir(), "virtio-apps-"));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

/** The README's example app: the code blocks after "`hello/manifest.json`:" and "`hello/main.ts`:". */
function readmeApp() {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Write your own app");
  assert.ok(start >= 0, 'README has a "Write your own app" section');
  const section = readme.slice(start, readme.indexOf("\n## ", start + 10));
  const block = (name) => {
    const m = new RegExp("`" + name.replace(".", "\\.") + "`:\\s*\\n```\\w*\\n([\\s\\S]*?)\\n```").exec(section);
    assert.ok(m, `README shows ${name}`);
    return m[1] + "\n";
  };
  return { manifest: block("hello/manifest.json"), main: block("hello/main.ts") };
}

function writeApp(name, files) {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

test("the README's example builds and runs as shown", async () => {
  const { manifest, main } = readmeApp();
  const dir = writeApp("hello", { "manifest.json": manifest, "main.ts": main });
  const m = await bootApp(dir, { ready: /hello from my app 1/, devices: [{ net: true }] });
  try {
    await m.waitFor(/hello from my app 3/, 10000);
    // The address line may come before or after the third greeting (DHCP's pace).
    if (!/address 10\.0\.2\.15/.test(m.transcript)) await m.waitFor(/address 10\.0\.2\.15/, 20000);
    for (const n of [1, 2, 3]) assert.match(m.transcript, `hello from my app ${n}`);
  } finally {
    await m.close();
  }
});

test("a type error stops the build with tsc's message naming the file and line", async () => {
  const { manifest, main } = readmeApp();
  const lines = main.split("\n");
  lines.splice(3, 0, 'const wrong: number = "text";');
  const dir = writeApp("broken", { "manifest.json": manifest, "main.ts": lines.join("\n") });
  let message = "";
  try {
    await buildApp({ dir, quiet: true });
  } catch (e) {
    message = e.message;
  }
  assert.match(message, /tsc found errors in the app/);
  assert.match(message, /main\.ts\(4,7\): error TS2322: Type 'string' is not assignable to type 'number'/);
});

test("a missing module, a bad manifest and an unknown specifier are named", async () => {
  const noMain = writeApp("no-main", { "manifest.json": JSON.stringify({ include: ["$(VIRTIO_XS)/manifest.json"], modules: { "*": "./main" } }) });
  await buildApp({ dir: noMain, quiet: true }).then(() => assert.unreachable(), (e) => assert.match(e.message, /module .*main not found \(tried main\.ts, main\.js, main\.mjs\)/));
  const badVar = writeApp("bad-var", { "manifest.json": JSON.stringify({ include: ["$(MODDABLE)/x.json"] }) });
  await buildApp({ dir: badVar, quiet: true }).then(() => assert.unreachable(), (e) => assert.match(e.message, /unknown variable .*only \$\(VIRTIO_XS\)/));
  const js = writeApp("unknown-spec", {
    "manifest.json": JSON.stringify({ include: ["$(VIRTIO_XS)/manifest.json"], modules: { "*": "./main" } }),
    "main.js": 'import Digital from "embedded:io/digital";\nnew Digital({ pin: 1 });\n',
  });
  await buildApp({ dir: js, quiet: true }).then(() => assert.unreachable(), (e) => assert.match(e.message, /module "embedded:io\/digital" is not available on this board/));
});

/** `npm start -- --app DIR ARGS...` in the background; resolves {child, waitFor(re)} on its output. */
function npmStart(args) {
  const child = spawn("npm", ["start", "--", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], detached: true });
  let out = "";
  const waiters = [];
  const onData = (b) => {
    out += b.toString("latin1");
    for (const w of [...waiters]) if (w.re.test(out)) { waiters.splice(waiters.indexOf(w), 1); clearTimeout(w.t); w.resolve(); }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return {
    child,
    get output() { return out; },
    waitFor(re, ms) {
      if (re.test(out)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const w = { re, resolve, t: setTimeout(() => reject(new Error(`npm start: no ${re} in ${JSON.stringify(out.slice(-1500))}`)), ms) };
        waiters.push(w);
      });
    },
    stop() {
      try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone */ }
      return new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
    },
  };
}

test("examples/udp-echo copied outside the tree: npm start -- --app DIR, a host client gets its datagrams back", async () => {
  const dir = join(scratch, "my-udp-echo");
  cpSync(join(ROOT, "examples/udp-echo"), dir, { recursive: true });
  const port = await freeUdpPort();
  const run = npmStart(["--app", dir, "--hostfwd", `udp:127.0.0.1:${port}-:7`, "--timeout", "120"]);
  try {
    await run.waitFor(/udp-echo: address 10\.0\.2\.15/, 90000);
    const back = await udpRoundTrips(port, 20);
    assert.is(back.length, 20);
  } finally {
    await run.stop();
  }
});

test("an app that includes the shell's manifest runs beside the shell; device.block and device.entropy on QEMU", async () => {
  const image = join(scratch, "shell-app.img");
  makeFilledImage(image, 1 << 20, 0x5a);
  const dir = writeApp("with-shell", {
    "manifest.json": JSON.stringify({ include: ["$(VIRTIO_XS)/apps/shell/manifest.json"], modules: { "*": "./main" } }),
    "main.ts": [
      'import device from "embedded:provider/builtin";',
      "const g = globalThis as { fromApp?: unknown; entropy?: unknown };",
      "const disks = device.block.devices();",
      "g.fromApp = `${disks.length} ${disks[0]?.capacity}`;",
      'device.entropy.read(16).then((b) => { g.entropy = `${b.byteLength} ${new Uint8Array(b).some((x) => x !== 0)}`; }, (e: Error) => { g.entropy = e.message; });',
      "",
    ].join("\n"),
  });
  const { elf } = await buildApp({ dir, quiet: true });
  const m = new QemuMachine({ elf, devices: [{ disk: image }, "virtio-rng-device"], bootTimeoutMs: 20000, commandTimeoutMs: 20000, lifetimeS: 600 });
  try {
    await m.start();
    const r = await m.command("js fromApp");
    assert.is(r.status, 0, r.output);
    assert.is(r.output.trim(), "1 2048", "one disk of 2048 sectors");
    const e = await m.command("js entropy");
    assert.is(e.output.trim(), "16 true", "16 random bytes");
    const blk = await m.command("blk read 0 2048");
    assert.is(blk.status, 0, blk.output);
  } finally {
    await m.close();
  }
});

test("manifests: includes merged first, the including one overrides; moddefs; config as mc/config", async () => {
  const base = writeApp("lib-manifest", {
    "manifest.json": JSON.stringify({ modules: { "*": ["./util"], helper: "./util" }, creation: { stack: 4096, keys: { initial: 100 } }, config: { a: 1, nested: { x: 1, y: 2 } }, defines: { serial: { baud: 9600 } } }),
    "util.ts": "export const answer = 42;\n",
  });
  const dir = writeApp("uses-lib", {
    "manifest.json": JSON.stringify({ include: ["$(VIRTIO_XS)/manifest.json", "../lib-manifest/manifest.json"], modules: { "*": "./main" }, creation: { keys: { incremental: 7 } }, config: { nested: { y: 3 } }, defines: { serial: { echo: true }, name: "demo" } }),
    "main.ts": 'import { answer } from "util";\nimport config from "mc/config";\nconst n: number = answer + config.nested.y;\nexport default n;\n',
  });
  const app = loadAppManifest(join(dir, "manifest.json"));
  assert.is(app.modules.util, join(base, "util.ts"));
  assert.is(app.modules.helper, join(base, "util.ts"));
  assert.is(app.modules.main, join(dir, "main.ts"), "the app's main overrides the stack's");
  assert.equal(app.config, { a: 1, nested: { x: 1, y: 3 } });
  assert.is(app.creation.stack, 4096);
  assert.equal(app.creation.keys, { ...app.creation.keys, initial: 100, incremental: 7 });
  assert.equal(moddefs(app.defines), { MODDEF_SERIAL_BAUD: 9600, MODDEF_SERIAL_ECHO: 1, MODDEF_NAME: '"demo"' });
  const { elf } = await buildApp({ dir, quiet: true }); // a bare module name and mc/config type-check and bundle
  assert.ok(elf.endsWith("firmware.elf"));
  const header = readFileSync(join(dirname(elf), "gen", "fw_config.h"), "utf8");
  assert.match(header, "#define MODDEF_SERIAL_BAUD 9600");
  assert.match(header, "#define FW_STACK 4096");
});

test.run();
