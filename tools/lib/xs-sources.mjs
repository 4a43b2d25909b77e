// The XS 13.3 engine sources, from the npm package @agoric/xsnap@0.15.0 fetched as a
// tarball only (`npm pack`: no install script runs), checked against its published
// integrity, cached in .cache/, and extracted to .cache/xsnap-0.15.0/moddable/xs/.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const XSNAP_SPEC = "@agoric/xsnap@0.15.0";
export const XSNAP_INTEGRITY =
  "sha512-ZBm4DZxbtfacxMHVVdJjZi0Y8zOxN77vpu1WwI5RWfPkaRh0aHkz/dVdTGKXalDNzWfz183lljKxlxl3/h0n+A==";
const TARBALL = "agoric-xsnap-0.15.0.tgz";
const FOLDERS = ["sources", "includes", "platforms"];

/** sha512 integrity string (SRI form, as npm prints it) of a file. */
function integrityOf(file) {
  return "sha512-" + createHash("sha512").update(readFileSync(file)).digest("base64");
}

/**
 * Returns the folder holding XS's `sources`, `includes` and `platforms`, fetching and
 * extracting them first if needed. Throws with a clear message on a network or
 * integrity failure.
 */
export function ensureXsSources(root, log = console.log) {
  const cache = join(root, ".cache");
  const xsDir = join(cache, "xsnap-0.15.0", "moddable", "xs");
  if (FOLDERS.every((f) => existsSync(join(xsDir, f)))) return xsDir;
  mkdirSync(cache, { recursive: true });
  const tarball = join(cache, TARBALL);
  if (!existsSync(tarball)) {
    log(`[xs] fetching ${XSNAP_SPEC} (tarball only) with npm pack`);
    const r = spawnSync("npm", ["pack", XSNAP_SPEC, "--pack-destination", cache, "--silent"], {
      encoding: "utf8",
      cwd: cache,
    });
    if (r.status !== 0 || !existsSync(tarball)) {
      throw new Error(`npm pack ${XSNAP_SPEC} failed (status ${r.status}): ${(r.stderr || "").trim()}`);
    }
  }
  const got = integrityOf(tarball);
  if (got !== XSNAP_INTEGRITY) {
    rmSync(tarball, { force: true });
    throw new Error(`${TARBALL}: integrity mismatch\n  expected ${XSNAP_INTEGRITY}\n  got      ${got}\n(the bad tarball was removed)`);
  }
  log(`[xs] integrity ok; extracting moddable/xs/{${FOLDERS.join(",")}}`);
  const tmp = join(cache, "xsnap-extract");
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const members = FOLDERS.map((f) => `package/moddable/xs/${f}`);
  const t = spawnSync("tar", ["-xzf", tarball, "-C", tmp, ...members], { encoding: "utf8" });
  if (t.status !== 0) throw new Error(`tar failed: ${t.stderr}`);
  const dest = join(cache, "xsnap-0.15.0");
  rmSync(dest, { recursive: true, force: true });
  renameSync(join(tmp, "package"), dest);
  rmSync(tmp, { recursive: true, force: true });
  return xsDir;
}

/** The XS C files the firmware compiles: every xs*.c but xsmc.c and xsSnapshot.c. */
export function xsCFiles(xsDir) {
  const skip = new Set(["xsmc.c", "xsSnapshot.c"]);
  return readdirSync(join(xsDir, "sources"))
    .filter((f) => /^xs.*\.c$/.test(f) && !skip.has(f))
    .sort()
    .map((f) => join(xsDir, "sources", f));
}
