// Fetches the peers' Debian packages with apt into .cache/bench/peers and unpacks them
// with dpkg-deb -x; nothing is installed on the system. armhf packages come from a
// private apt state (lists under .cache, APT::Architecture=armhf), so the system's
// architectures are left alone. Not root: prints the commands to run instead.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

export class PeerFetchError extends Error { name = "PeerFetchError"; }

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.status !== 0) throw new PeerFetchError(`${cmd} ${args.join(" ")} failed (${r.status}): ${(r.stderr || r.stdout || "").trim().slice(-600)}`);
  return r.stdout;
}

function armhfOptions(cache) {
  return [
    "-o", "APT::Architecture=armhf", "-o", "APT::Architectures=armhf",
    "-o", `Dir::State::Lists=${join(cache, "apt-armhf", "lists")}`,
    "-o", `Dir::Cache=${join(cache, "apt-armhf", "cache")}`,
    "-o", "Dir::State::Status=/dev/null",
  ];
}

/**
 * Downloads (once) and unpacks the packages `names` (`arch`: "native" or "armhf") into
 * `cache/<dirName>`; returns that folder. `resolve(name, aptOpts)` may map a name
 * (a metapackage) to the real package first.
 */
export function fetchPackages({ cache, dirName, names, arch = "native", log = () => {} }) {
  const root = join(cache, dirName);
  const stamp = join(root, ".unpacked");
  if (existsSync(stamp)) return root;
  const opts = arch === "armhf" ? armhfOptions(cache) : [];
  const debs = join(cache, "debs", arch);
  const lines = [];
  if (arch === "armhf") lines.push(`apt-get ${opts.join(" ")} update`);
  lines.push(`cd ${debs} && apt-get ${opts.join(" ")} download ${names.join(" ")}`);
  if (!isRoot()) {
    throw new PeerFetchError(`not root: fetch the peer yourself, then re-run:\n  mkdir -p ${debs} ${join(cache, "apt-armhf", "lists", "partial")} ${join(cache, "apt-armhf", "cache", "archives", "partial")}\n  ${lines.map((l) => `sudo ${l}`).join("\n  ")}`);
  }
  mkdirSync(debs, { recursive: true });
  const have = () => readdirSync(debs).filter((f) => f.endsWith(".deb"));
  const missing = names.filter((n) => !have().some((f) => f.startsWith(`${n}_`)));
  if (missing.length > 0) {
    if (arch === "armhf") ensureArmhfLists(cache, log);
    log(`apt-get download ${missing.join(" ")}`);
    run("apt-get", [...opts, "-q", "download", ...missing], { cwd: debs });
  }
  mkdirSync(root, { recursive: true });
  for (const n of names) {
    const deb = have().find((f) => f.startsWith(`${n}_`));
    if (!deb) throw new PeerFetchError(`apt-get download ${n} left no .deb in ${debs}`);
    run("dpkg-deb", ["-x", join(debs, deb), root]);
  }
  run("touch", [stamp]);
  return root;
}

/** The private armhf package lists (apt-get update once). */
function ensureArmhfLists(cache, log) {
  const opts = armhfOptions(cache);
  const lists = join(cache, "apt-armhf", "lists");
  const ready = () => existsSync(lists) && readdirSync(lists).some((f) => f.includes("_Packages"));
  if (ready()) return;
  if (!isRoot()) throw new PeerFetchError(`not root: run\n  mkdir -p ${join(lists, "partial")} ${join(cache, "apt-armhf", "cache", "archives", "partial")}\n  sudo apt-get ${opts.join(" ")} update`);
  mkdirSync(join(lists, "partial"), { recursive: true });
  mkdirSync(join(cache, "apt-armhf", "cache", "archives", "partial"), { recursive: true });
  log(`apt-get update (armhf lists in ${join(cache, "apt-armhf")})`);
  // A mirror out of sync (security lists) fails the update but leaves main's lists: enough.
  const r = spawnSync("apt-get", [...opts, "-q", "update"], { encoding: "utf8" });
  if (!ready()) throw new PeerFetchError(`apt-get update (armhf) failed (${r.status}): ${(r.stderr || "").trim().slice(-600)}`);
}

/** The real package behind an armhf metapackage (linux-image-armmp -> linux-image-6.1.0-N-armmp). */
export function armhfDependency({ cache, meta, prefix, log = () => {} }) {
  const opts = armhfOptions(cache);
  ensureArmhfLists(cache, log);
  const out = run("apt-cache", [...opts, "depends", meta]);
  const m = new RegExp(`Depends: (${prefix}\\S*)`).exec(out);
  if (!m) throw new PeerFetchError(`apt-cache depends ${meta}: no ${prefix}* dependency in:\n${out}`);
  return m[1];
}
