// Installs the project's npm packages when they are missing (a fresh clone), using only
// Node built-ins so that it can run before anything is installed.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Runs `npm ci` (or `npm install` without a lock file) if a dev dependency is missing. */
export function ensureNodeModules() {
  const needed = ["typescript", "uvu", "esbuild", "@types/node"];
  if (needed.every((name) => existsSync(join(ROOT, "node_modules", name, "package.json")))) return;
  const lock = existsSync(join(ROOT, "package-lock.json"));
  const args = lock ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"];
  console.log(`[deps] installing npm packages: npm ${args.join(" ")}`);
  const r = spawnSync("npm", args, { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`npm ${args[0]} failed with status ${r.status}`);
}
