#!/usr/bin/env node
// `npm run build`: builds the firmware (see tools/lib/firmware-build.mjs), or with --app
// an application's (a directory with a Moddable-style manifest.json: tools/lib/app-build.mjs).
//   node tools/build.mjs [--board qemu-virt-arm] [--entry path.ts | --app DIR] [--quiet]
import { buildFirmware } from "./lib/firmware-build.mjs";
import { buildApp } from "./lib/app-build.mjs";
import { resolve } from "node:path";
import { ensureNodeModules } from "./lib/node-deps.mjs";
import { DEFAULT_BOARD } from "./lib/qemu-board.mjs";

function parseArgs(argv) {
  const opts = { board: DEFAULT_BOARD, entry: undefined, app: undefined, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--board") opts.board = argv[++i];
    else if (a === "--entry") opts.entry = argv[++i];
    else if (a === "--app") opts.app = argv[++i];
    else if (a === "--quiet") opts.quiet = true;
    else if (a === "--help" || a === "-h") {
      console.log("usage: node tools/build.mjs [--board B (default qemu-virt-arm; env VIRTIO_BOARD)] [--entry path.ts | --app DIR] [--quiet]");
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
  if (opts.app !== undefined && opts.entry !== undefined) throw new Error("--app and --entry exclude each other");
  const { elf, sizes } = opts.app !== undefined ? await buildApp({ dir: resolve(process.env.INIT_CWD ?? process.cwd(), opts.app), board: opts.board, quiet: opts.quiet }) : await buildFirmware(opts);
  if (opts.quiet) console.log(`${elf} text=${sizes.text} data=${sizes.data} bss=${sizes.bss}`);
} catch (e) {
  console.error(`build: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
