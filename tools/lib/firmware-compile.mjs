// Incremental cross-compilation: one object per source, rebuilt only when the source,
// a header it includes (gcc -MMD dependency file) or the flags changed.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { basename, dirname, join } from "node:path";

/** Parses a make-style .d file into the list of files the object depends on. */
function depsOf(dfile) {
  const text = readFileSync(dfile, "utf8").replace(/\\\r?\n/g, " ");
  const colon = text.indexOf(": ");
  if (colon < 0) return null;
  return text
    .slice(colon + 2)
    .split(/\s+/)
    .filter((s) => s && !s.endsWith(":"))
    .map((s) => s.replace(/\\ /g, " "));
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** True when `obj` is older than nothing it depends on and was built with `flagsHash`. */
function upToDate(obj, flagsHash) {
  const d = obj.replace(/\.o$/, ".d");
  const f = obj.replace(/\.o$/, ".flags");
  if (!existsSync(obj) || !existsSync(d) || !existsSync(f)) return false;
  if (readFileSync(f, "utf8") !== flagsHash) return false;
  const deps = depsOf(d);
  if (!deps) return false;
  const t = mtime(obj);
  return deps.every((dep) => mtime(dep) <= t);
}

function run(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (b) => (out += b));
    p.stderr.on("data", (b) => (out += b));
    p.on("close", (status) => resolve({ status, out }));
    p.on("error", (e) => resolve({ status: -1, out: String(e) }));
  });
}

/**
 * Compiles `units` ({src, flags}) into objDir with `cc`, `jobs` at a time.
 * Returns {objects, rebuilt}; throws with the compiler output on the first error.
 */
export async function compileAll({ cc, units, objDir, jobs = 2, log }) {
  mkdirSync(objDir, { recursive: true });
  const todo = [];
  const objects = [];
  for (const u of units) {
    const tag = createHash("sha1").update(u.src).digest("hex").slice(0, 6);
    const obj = join(objDir, `${basename(u.src).replace(/\.[cS]$/, "")}-${tag}.o`);
    objects.push(obj);
    const flagsHash = createHash("sha256").update(cc + "\0" + u.flags.join("\0")).digest("hex");
    if (!upToDate(obj, flagsHash)) todo.push({ ...u, obj, flagsHash });
  }
  let done = 0;
  let failure = null;
  const worker = async () => {
    while (todo.length && !failure) {
      const u = todo.shift();
      mkdirSync(dirname(u.obj), { recursive: true });
      // Written under temporary names and renamed: another build running at the same
      // time (a test harness, say) never links a half-written object.
      const tmp = `${u.obj}.${process.pid}.tmp`;
      const r = await run(cc, [...u.flags, "-MMD", "-MF", `${tmp}.d`, "-MT", u.obj, "-c", u.src, "-o", tmp]);
      done += 1;
      if (r.status !== 0) {
        rmSync(tmp, { force: true });
        rmSync(`${tmp}.d`, { force: true });
        failure = `compiling ${u.src} failed:\n${r.out}`;
        return;
      }
      renameSync(`${tmp}.d`, u.obj.replace(/\.o$/, ".d"));
      renameSync(tmp, u.obj);
      if (r.out.trim()) log?.(r.out.trim());
      writeFileSync(u.obj.replace(/\.o$/, ".flags"), u.flagsHash);
      log?.(`[cc] ${done}/${done + todo.length} ${basename(u.src)}`);
    }
  };
  const total = todo.length;
  if (total) log?.(`[cc] compiling ${total} of ${units.length} files (${jobs} at a time)`);
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  if (failure) throw new Error(failure);
  return { objects, rebuilt: total };
}
