// Shared by the app suites: builds an application (tools/lib/app-build.mjs, incremental,
// through virtio-xs/hil's `app` option) and boots it, waiting for a line it prints; the
// caller closes the board.
import { Board } from "virtio-xs/hil";

/** Builds the app in `dir` and boots it; resolves the Board once the UART shows `ready`. */
export async function bootApp(dir, { ready, devices = [], legacy = false } = {}) {
  const b = await Board.boot({ app: dir, legacy, devices, prompt: null, batch: false, bootTimeoutMs: 20000, commandTimeoutMs: 20000, lifetimeS: 600 });
  try {
    if (ready) await b.waitFor(ready, { timeoutMs: 20000, what: `the app's ${ready}` });
  } catch (e) {
    await b.close();
    throw e;
  }
  return b;
}
