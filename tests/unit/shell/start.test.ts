import { test } from "uvu";
import * as assert from "uvu/assert";
import { startApp, type AppBus, type DriverModule } from "../../../apps/start.js";
import { fakeDevice, fakePlatform, flush } from "./fake-platform.js";

type Driver = { name: string };

function fakeBus(scan: () => Promise<void>) {
  const registered: Driver[] = [];
  const bus: AppBus<Driver> & { registered: Driver[] } = {
    registered,
    register: (d) => void registered.push(d),
    scan,
    devices: () => [fakeDevice()],
  };
  return bus;
}

const rngModule: DriverModule<Driver> = {
  name: "rng",
  create: () => ({
    driver: { name: "virtio-rng" },
    commands: [{ name: "rng", usage: "rng N", summary: "random bytes", run: (a, io) => io.print(`bytes ${a[0]}`) }],
    globals: { rngDevices: ["r0"] },
  }),
};

test("registers the drivers, scans, prints the banner and starts the shell", async () => {
  const platform = fakePlatform();
  const bus = fakeBus(async () => {});
  const app = await startApp({ platform, createBus: () => bus, drivers: [rngModule] });
  assert.equal(bus.registered, [{ name: "virtio-rng" }]);
  assert.is(
    platform.output(),
    "virtio-xs on linux,dummy-virt (fake): RAM 128 MiB at 0x40000000, 1 virtio device\r\nvirtio> ",
  );
  platform.clearOutput();
  platform.type("rng 8\rjs rngDevices[0]\r");
  await app.shell.whenIdle();
  assert.ok(platform.output().includes("bytes 8\r\nvirtio> js rngDevices[0]\r\nr0\r\n"));
});

test("a scan that throws prints the error and the shell still starts", async () => {
  const platform = fakePlatform();
  const bus = fakeBus(async () => {
    throw new Error("transport 3 exploded");
  });
  const app = await startApp({ platform, createBus: () => bus, drivers: [] });
  const out = platform.output();
  assert.ok(out.startsWith("virtio scan failed: Error: transport 3 exploded\r\n"), out);
  assert.ok(out.endsWith("virtio> "));
  assert.ok(app.shell !== null);
});

test("a bus that cannot be made and a driver that fails to load: the shell still starts", async () => {
  const platform = fakePlatform();
  const broken: DriverModule<Driver> = {
    name: "blk",
    create() {
      throw new TypeError("no blk today");
    },
  };
  const app = await startApp<Driver>({
    platform,
    createBus() {
      throw new Error("no bus");
    },
    drivers: [broken],
  });
  const out = platform.output();
  assert.ok(out.includes("virtio bus unavailable: Error: no bus"));
  assert.ok(out.includes("driver blk not loaded: TypeError: no blk today"));
  assert.ok(out.includes("0 virtio devices"));
  assert.ok(out.endsWith("virtio> "));
  assert.is(app.bus, null);
});

test("a scan that hangs: the shell starts after the timeout", async () => {
  const platform = fakePlatform();
  const bus = fakeBus(() => new Promise<void>(() => {}));
  const started = startApp({ platform, createBus: () => bus, drivers: [], scanTimeoutMs: 500 });
  await flush();
  assert.is(platform.output(), "");
  platform.advance(500);
  await started;
  assert.ok(platform.output().startsWith("virtio scan still running: starting the shell meanwhile\r\n"));
  assert.ok(platform.output().endsWith("virtio> "));
});

test("a driver command that clashes with a built-in is reported, others still added", async () => {
  const platform = fakePlatform();
  const clash: DriverModule<Driver> = {
    name: "clash",
    create: () => ({ driver: { name: "x" }, commands: [{ name: "help", usage: "help", summary: "", run: () => 0 }] }),
  };
  const app = await startApp({ platform, createBus: () => fakeBus(async () => {}), drivers: [clash, rngModule] });
  assert.ok(platform.output().includes("command help not added: DuplicateCommandError: command already registered: help"));
  assert.ok(app.shell.commands().some((c) => c.name === "rng"));
});

test.run();
