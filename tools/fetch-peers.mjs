#!/usr/bin/env node
// Fetches the Linux peer (Debian's armhf linux-image-armmp and busybox-static, through the
// same private apt state as `npm run bench`) into .cache/bench/peers/linux, so that the QEMU
// tests that boot a Linux machine beside the firmware (tests/qemu/net-linux.test.mjs) run
// instead of skipping. `.ci/run` calls it; as a user, `npm run bench` fetches the same.
// Exit status 0 when the peer is there, 1 (with the reason) when it cannot be had.
import { join } from "node:path";
import { ROOT } from "./lib/node-deps.mjs";
import { armhfDependency, fetchPackages } from "./lib/bench-fetch.mjs";

const cache = join(ROOT, ".cache", "bench", "peers");
const log = (text) => console.error(`[peers] ${text}`);
try {
  const kernel = armhfDependency({ cache, meta: "linux-image-armmp", prefix: "linux-image-6", log });
  const root = fetchPackages({ cache, dirName: "linux", names: [kernel, "busybox-static"], arch: "armhf", log });
  log(`Linux peer in ${root} (${kernel}, busybox-static)`);
} catch (error) {
  log(`no Linux peer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
