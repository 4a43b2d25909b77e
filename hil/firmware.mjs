// Which image a board boots: a given ELF (or raw image), an app directory built through the
// project's firmware build, another entry module, or the project's own firmware (built,
// incrementally, once per process when asked). Builds are shared by boards booting at once.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROOT } from "../tools/lib/node-deps.mjs";
import { DEFAULT_BOARD } from "../tools/lib/qemu-board.mjs";

export { ROOT };

/** The project's firmware for a board: build/fw/<board>/firmware.elf. */
export const defaultFirmware = (board = DEFAULT_BOARD) => join(ROOT, "build", "fw", board, "firmware.elf");

const builds = new Map(); // key -> Promise<elf path>

/**
 * Resolves the image to boot. opts: {firmware | elf, app, entry, board, build}.
 * build: true (build once per process, incremental), false (use what is there),
 * "auto" (default: build when nothing was given).
 */
export function resolveFirmware({ firmware, elf, app, entry, board = DEFAULT_BOARD, build = "auto" } = {}) {
  const given = firmware ?? elf;
  if (given !== undefined && (app !== undefined || entry !== undefined)) {
    return Promise.reject(new TypeError("Board: give one of firmware/elf, app or entry"));
  }
  if (given !== undefined) {
    const path = resolve(String(given));
    if (!existsSync(path) || !statSync(path).isFile()) return Promise.reject(new Error(`Board: no firmware file at ${path}`));
    return Promise.resolve(path);
  }
  if (app !== undefined) {
    const dir = resolve(String(app));
    if (dir.endsWith(".elf") && existsSync(dir)) return Promise.resolve(dir); // an app's ELF, already built
    if (!existsSync(join(dir, "manifest.json"))) return Promise.reject(new Error(`Board: app ${dir} has no manifest.json`));
    return buildOnce({ board, app: dir });
  }
  if (entry !== undefined) return buildOnce({ board, entry: resolve(String(entry)) });
  const path = defaultFirmware(board);
  if (build === false) {
    if (!existsSync(path)) return Promise.reject(new Error(`Board: no firmware at ${path} (npm run build makes it, or pass build: true)`));
    return Promise.resolve(path);
  }
  return buildOnce({ board });
}

function buildOnce(what) {
  const key = JSON.stringify(what);
  if (!builds.has(key)) {
    // Progress on long work: an up-to-date build takes well under a second, a first one minutes.
    const what_ = what.app ?? what.entry ?? `the ${what.board} firmware`;
    const t0 = Date.now();
    const slow = setTimeout(() => process.stderr.write(`[hil] building ${what_} (incremental; the first build takes minutes)...\n`), 2000);
    const p = runBuild(what).finally(() => {
      clearTimeout(slow);
      if (Date.now() - t0 > 2000) process.stderr.write(`[hil] built ${what_} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    });
    builds.set(key, p);
    p.catch(() => builds.delete(key)); // a failed build is tried again next time
  }
  return builds.get(key);
}

/** tools/lib/app-build.mjs's buildApp (what `npm run build -- --app DIR` runs). */
async function appBuilder() {
  try {
    const { buildApp } = await import("../tools/lib/app-build.mjs");
    if (typeof buildApp === "function") return buildApp;
  } catch (e) {
    if (e?.code !== "ERR_MODULE_NOT_FOUND") throw e;
  }
  throw new Error("Board: this checkout cannot build an app directory (no buildApp in tools/lib/app-build.mjs)");
}

async function runBuild({ board, app, entry }) {
  let r;
  if (app !== undefined) {
    const buildApp = await appBuilder();
    r = await buildApp({ dir: app, board, quiet: true });
  } else {
    const { buildFirmware } = await import("../tools/lib/firmware-build.mjs");
    r = await buildFirmware({ board, entry, quiet: true });
  }
  const elf = r?.elf ?? defaultFirmware(board);
  if (!existsSync(elf)) throw new Error(`Board: the build reported no firmware at ${elf}`);
  return elf;
}
