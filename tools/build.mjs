#!/usr/bin/env node
// `npm run build`: builds the firmware (see tools/lib/firmware-build.mjs).
//   node tools/build.mjs [--board qemu-virt-arm] [--entry path.ts] [--quiet]
import { buildFirmware } from "./lib/firmware-build.mjs";
import { ensureNodeModules } from "./lib/node-deps.mjs";

function parseArgs(argv) {
  const opts = { board: "qemu-virt-arm", entry: undefined, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--board") opts.board = argv[++i];
    else if (a === "--entry") opts.entry = argv[++i];
    else if (a === "--quiet") opts.quiet = true;
    else if (a === "--help" || a === "-h") {
      console.log("usage: node tools/build.mjs [--board qemu-virt-arm] [--entry path.ts] [--quiet]");
      process.exit(0);
    } else {
      console.error(`build: unknown option ${a}`);
      process.exit(2);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
ensureNodeModules();
try {
  const { elf, sizes } = await buildFirmware(opts);
  if (opts.quiet) console.log(`${elf} text=${sizes.text} data=${sizes.data} bss=${sizes.bss}`);
} catch (e) {
  console.error(`build: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
