// What the QEMU suites need before they run: the system packages and a built firmware.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./node-deps.mjs";
import { ensureSystemDeps } from "./system-deps.mjs";
import { DEFAULT_BOARD } from "./qemu-board.mjs";

/**
 * Builds the firmware with the firmware engineer's buildFirmware() (incremental: quick when
 * nothing changed). Resolves {ok, reason, elf, sizes}.
 */
export async function buildFirmwareIfNeeded({ board = DEFAULT_BOARD, quiet = true } = {}) {
  const lib = join(ROOT, "tools", "lib", "firmware-build.mjs");
  if (!existsSync(lib)) return { ok: false, reason: "tools/lib/firmware-build.mjs is missing: the firmware build has not landed" };
  try {
    const { buildFirmware } = await import("./firmware-build.mjs");
    const r = await buildFirmware({ board, quiet });
    const elf = r?.elf ?? join(ROOT, "build", "fw", board, "firmware.elf");
    if (!existsSync(elf)) return { ok: false, reason: `the build reported no firmware at ${elf}` };
    return { ok: true, reason: "firmware built", elf, sizes: r?.sizes ?? null, rebuilt: Boolean(r?.rebuilt) };
  } catch (e) {
    return { ok: false, reason: `firmware build failed: ${e?.message ?? e}` };
  }
}

/** Ensures system deps and the firmware; resolves {ok, reason}. */
export async function prepareQemuTests({ board = DEFAULT_BOARD, quiet = false } = {}) {
  const deps = ensureSystemDeps({ quiet, boards: [board] });
  if (!deps.ok) return { ok: false, reason: deps.reason };
  const fw = await buildFirmwareIfNeeded({ board, quiet });
  if (!fw.ok) return { ok: false, reason: fw.reason };
  if (!quiet) console.log(`[test] qemu: firmware ${fw.elf}`);
  return { ok: true, reason: "ready", elf: fw.elf };
}
