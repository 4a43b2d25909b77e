#!/usr/bin/env node
// Installs what the project needs. Idempotent and quick when everything is there.
//   node tools/deps.mjs            npm packages (npm ci when one is missing)
//   node tools/deps.mjs --system   also the Debian packages of every board (root: apt-get; else
//                                  prints the command); --board B: only the default board's and B's
//   node tools/deps.mjs --check    only report what is missing; exit 1 if anything is
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT, ensureNodeModules } from "./lib/node-deps.mjs";
import { ensureSystemDeps, missingSystemDeps, installCommand } from "./lib/system-deps.mjs";

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log("usage: node tools/deps.mjs [--system] [--check] [--board B]");
  process.exit(0);
}
const bi = args.indexOf("--board");
const boards = bi >= 0 ? [args.splice(bi, 2)[1]] : "all";
for (const a of args) {
  if (!["--system", "--check"].includes(a)) {
    console.error(`deps: unknown option ${a} (try --help)`);
    process.exit(2);
  }
}

if (args.includes("--check")) {
  const missing = missingSystemDeps(boards);
  const npmMissing = !existsSync(join(ROOT, "node_modules", "typescript", "package.json"));
  for (const d of missing) console.log(`missing: ${d.what} (Debian package ${d.pkg})`);
  if (npmMissing) console.log("missing: npm packages (run: npm ci)");
  if (missing.length) console.log(`install with: ${installCommand([...new Set(missing.map((d) => d.pkg))])}`);
  if (!missing.length && !npmMissing) console.log("all dependencies present");
  process.exit(missing.length || npmMissing ? 1 : 0);
}

try {
  ensureNodeModules();
} catch (e) {
  console.error(`deps: ${e.message}`);
  process.exit(1);
}
if (args.includes("--system")) {
  const r = ensureSystemDeps({ boards });
  if (!r.ok) {
    console.error(`deps: ${r.reason}`);
    process.exit(1);
  }
  console.log(`[deps] system: ${r.reason}`);
}
