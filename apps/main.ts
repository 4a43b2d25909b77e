// The default firmware entry (bundled by tools/build.mjs and run by XS at boot): the
// bare-metal platform, the virtio bus with the drivers of apps/drivers.ts, a scan, a
// banner and the shell on the UART. No top-level await: the bundle is a script.

import { createBus } from "./bus.js";
import { createXsPlatform } from "../platform/xs/platform.js";
import { drivers } from "./drivers.js";
import { startApp } from "./start.js";

void startApp({
  platform: createXsPlatform(),
  createBus: (platform) => createBus(platform),
  drivers,
});
