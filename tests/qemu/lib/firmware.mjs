// Shared by the QEMU suites: where the firmware is, and a booted shell in batch mode.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../../tools/lib/node-deps.mjs";
import { QemuMachine } from "../../../tools/lib/qemu.mjs";

export { ROOT };
/** The firmware under test (env VIRTIO_FIRMWARE picks another ELF). */
export const FIRMWARE_ELF = process.env.VIRTIO_FIRMWARE ?? join(ROOT, "build", "fw", "qemu-virt-arm", "firmware.elf");

/** Boots the firmware (modern unless `legacy`) to the shell; the caller closes it. */
export async function bootShell(opts = {}) {
  if (!existsSync(FIRMWARE_ELF)) throw new Error(`no firmware at ${FIRMWARE_ELF}: run npm run build (npm test builds it)`);
  // lifetimeS: even a test process killed with SIGKILL leaves QEMU running 10 min at most.
  const m = new QemuMachine({ elf: FIRMWARE_ELF, bootTimeoutMs: 20000, commandTimeoutMs: 20000, lifetimeS: 600, ...opts });
  await m.start();
  return m;
}

/** The first line of `output` that parses as JSON. */
export function jsonLine(output) {
  for (const line of output.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("[") && !t.startsWith("{")) continue;
    try { return JSON.parse(t); } catch { /* keep looking */ }
  }
  throw new Error(`no JSON line in:\n${output}`);
}
