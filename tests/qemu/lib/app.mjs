// Shared by the app suites: builds an application (tools/lib/app-build.mjs, incremental)
// and boots it with QEMU, waiting for a line it prints; the caller closes the machine.
import { QemuMachine } from "../../../tools/lib/qemu.mjs";
import { buildApp } from "../../../tools/lib/app-build.mjs";

/** Builds the app in `dir` and boots it; resolves once the UART shows `ready`. */
export async function bootApp(dir, { ready, devices = [], legacy = false } = {}) {
  const { elf } = await buildApp({ dir, quiet: true });
  const m = new QemuMachine({ elf, legacy, devices, prompt: null, batch: false, bootTimeoutMs: 20000, commandTimeoutMs: 20000, lifetimeS: 600 });
  try {
    await m.start();
    if (ready) await m.waitFor(ready, 20000, { what: `the app's ${ready}` });
  } catch (e) {
    await m.close();
    throw e;
  }
  return m;
}
