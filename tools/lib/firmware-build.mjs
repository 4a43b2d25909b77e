// The firmware build, as a function for tools/build.mjs, the test harness and `npm start`:
//   manifest.json -> tsc type-check -> esbuild bundle (one ES2022 script) -> generated
//   config header -> incremental cross-compile (XS + platform/xs) -> link -> size.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureXsSources, xsCFiles } from "./xs-sources.mjs";
import { compileAll } from "./firmware-compile.mjs";
import { DEFAULT_BOARD } from "./qemu-board.mjs";
import { boardPackages, installCommand } from "./system-deps.mjs";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export class FirmwareBuildError extends Error {}

/**
 * The board's C half (board.json `firmware`, boards/README.md): the CPU architecture
 * (platform/xs/arch/<arch>/), the cross toolchain prefix, compiler flags, the C library
 * (newlib or picolibc: platform/xs/libc/<libc>.c) and the device drivers it links
 * (platform/xs/dev/<file>). A board.json without it is the 32-bit ARM board of before.
 */
export function boardFirmware(boardJson) {
  const f = boardJson.firmware ?? {};
  const fw = {
    arch: f.arch ?? "arm32",
    cross: f.cross ?? "arm-none-eabi-",
    cflags: f.cflags ?? ["-mcpu=cortex-a15", "-mfpu=neon-vfpv4", "-mfloat-abi=hard", "-mthumb"],
    asflags: f.asflags ?? ["-marm"],
    libc: f.libc ?? "newlib",
    devices: f.devices ?? ["gic.c", "pl011.c", "arm_timer.c", "psci.c"],
    ldflags: f.ldflags ?? [],
  };
  if (!["newlib", "picolibc"].includes(fw.libc)) throw new FirmwareBuildError(`board.json firmware.libc: "newlib" or "picolibc", not ${JSON.stringify(fw.libc)}`);
  // picolibc's Debian packages install one specs file per target triple.
  fw.specs = fw.libc === "picolibc" ? [`--specs=/usr/lib/picolibc/${fw.cross.replace(/-$/, "")}/picolibc.specs`] : [];
  return fw;
}

/** Reads manifest.json and the board's board.json, with the platform's overrides merged. */
export function readManifest(board = DEFAULT_BOARD) {
  const manifest = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8"));
  const platform = manifest.platforms?.[board];
  if (!platform) throw new FirmwareBuildError(`manifest.json has no platforms["${board}"]`);
  const boardDir = join(ROOT, platform.board ?? `boards/${board}`);
  const boardJson = JSON.parse(readFileSync(join(boardDir, "board.json"), "utf8"));
  const creation = mergeDeep(manifest.creation ?? {}, platform.creation ?? {});
  const modules = { ...(manifest.modules ?? {}), ...(platform.modules ?? {}) };
  return { manifest, platform, boardDir, boardJson, creation, modules };
}

function mergeDeep(a, b) {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === "object" && !Array.isArray(v) ? mergeDeep(a[k] ?? {}, v) : v;
  }
  return out;
}

/** Where the board's libc.a is: the toolchain's own (newlib), or picolibc's for the
 * multilib the CPU flags select (the specs file adds its -L only when linking). */
function libcArchive(fw) {
  if (fw.libc === "picolibc") {
    const triple = fw.cross.replace(/-$/, "");
    const multi = spawnSync(fw.cross + "gcc", [...fw.cflags, "-print-multi-directory"], { encoding: "utf8" });
    const dir = multi.status === 0 ? multi.stdout.trim() : ".";
    const specs = fw.specs[0].slice("--specs=".length);
    return existsSync(specs) ? join(`/usr/lib/picolibc/${triple}/lib`, dir === "." ? "" : dir, "libc.a") : specs;
  }
  const lib = spawnSync(fw.cross + "gcc", [...fw.cflags, "-print-file-name=libc.a"], { encoding: "utf8" });
  return lib.status === 0 ? lib.stdout.trim() : "libc.a";
}

function toolchainCheck(board, fw) {
  const hint = `sudo ${installCommand(boardPackages(board))}`;
  for (const tool of ["gcc", "size"]) {
    const r = spawnSync(fw.cross + tool, ["--version"], { encoding: "utf8" });
    if (r.status !== 0) {
      throw new FirmwareBuildError(`${fw.cross}${tool} not found: the cross toolchain for ${board} is missing.\n  Install it with: ${hint}`);
    }
  }
  if (!existsSync(libcArchive(fw))) {
    throw new FirmwareBuildError(`${fw.libc} (libc.a for ${fw.cross.replace(/-$/, "")}) not found.\n  Install it with: ${hint}`);
  }
}

/** Writes `file` only if its content changes (so that make-style mtimes stay meaningful). */
export function writeIfChanged(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  if (existsSync(file) && readFileSync(file, "utf8") === text) return false;
  writeFileSync(file, text);
  return true;
}

/** Newest mtime over the TypeScript sources the firmware type-check covers. */
export function tsStamp() {
  const dirs = ["apps", "drivers", "net", "transports", "pci", "platform", "ring"];
  const h = createHash("sha1");
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) h.update(p + ":" + statSync(p).mtimeMs + "\n");
    }
  };
  for (const d of dirs) walk(join(ROOT, d));
  for (const f of ["tsconfig.firmware.json", "tsconfig.base.json"]) h.update(f + statSync(join(ROOT, f)).mtimeMs);
  return h.digest("hex");
}

/**
 * Type-checks what the bundle contains: the entry and everything it imports, with the
 * settings of tsconfig.firmware.json (strict, no Node types), through a generated
 * tsconfig that extends it. Skipped when no TypeScript file changed since the last pass.
 */
function typeCheck(outDir, entryPath, log) {
  const stampFile = join(outDir, "tsc.stamp");
  const stamp = tsStamp() + ":" + entryPath;
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) return false;
  log(`[tsc] type-checking ${relative(ROOT, entryPath)} and its imports (tsconfig.firmware.json settings)`);
  const config = join(outDir, "tsconfig.entry.json");
  writeIfChanged(
    config,
    JSON.stringify(
      {
        extends: relative(outDir, join(ROOT, "tsconfig.firmware.json")),
        compilerOptions: { noEmit: true, rootDir: relative(outDir, ROOT) },
        files: [relative(outDir, entryPath), relative(outDir, join(ROOT, "platform/xs/natives.d.ts"))],
        include: [],
      },
      null,
      2,
    ),
  );
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", config], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new FirmwareBuildError(`tsc found errors:\n${r.stdout}${r.stderr}`);
  writeIfChanged(stampFile, stamp);
  return true;
}

/**
 * Bundles the entry into one ES2022 script. `minify` (manifest platforms.<board>.bundle):
 * "syntax" (default: whitespace and syntax, names kept so stacks stay readable), true
 * (everything), false (as written). XS parses the script at every boot: smaller is faster.
 */
async function bundle(entry, outFile, log, minify = "syntax", plugins = []) {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: "iife",
    target: "es2022",
    platform: "neutral",
    write: false,
    charset: "utf8",
    legalComments: "none",
    banner: { js: '"use strict";' },
    minifyWhitespace: minify !== false,
    minifySyntax: minify !== false,
    minifyIdentifiers: minify === true,
    logLevel: "silent",
    plugins,
  }).catch((e) => {
    throw new FirmwareBuildError(`esbuild failed:\n${e.message}`);
  });
  const text = result.outputFiles[0].text;
  if (writeIfChanged(outFile, text)) log(`[esbuild] ${relative(ROOT, entry)} -> bundle.js (${text.length} bytes)`);
  return text.length;
}

function configHeader({ creation, platform, boardJson }, extraDefines = {}) {
  const n = (v, d) => (Number.isInteger(v) ? v : d);
  const c = creation;
  const defs = {
    FW_NAME: JSON.stringify(platform.name ?? "virtio-xs"),
    FW_BOARD: JSON.stringify(boardJson.name ?? "qemu-virt-arm"),
    FW_XS_VERSION: JSON.stringify("13.3 (@agoric/xsnap 0.15.0)"),
    FW_EARLY_UART: `0x${Number(boardJson.earlyConsole ?? 0x09000000).toString(16)}u`,
    FW_CHUNK_INITIAL: n(c.chunk?.initial, 4 << 20),
    FW_CHUNK_INCREMENTAL: n(c.chunk?.incremental, 1 << 20),
    FW_HEAP_INITIAL: n(c.heap?.initial, 65536),
    FW_HEAP_INCREMENTAL: n(c.heap?.incremental, 16384),
    FW_STACK: n(c.stack, 8192),
    FW_KEYS_INITIAL: n(c.keys?.initial, 2048),
    FW_KEYS_INCREMENTAL: n(c.keys?.incremental, 1024),
    FW_NAME_MODULO: n(c.keys?.name, 1021),
    FW_SYMBOL_MODULO: n(c.keys?.symbol, 127),
    FW_PARSER_BUFFER: n(c.parser?.buffer, 65536),
    FW_PARSER_TABLE: n(c.parser?.table, 1021),
    FW_ENGINE_LIMIT: `${n(c.limit, 32 << 20)}u`,
    ...extraDefines,
  };
  return (
    "/* Generated by tools/lib/firmware-build.mjs from manifest.json; do not edit. */\n" +
    Object.entries(defs).map(([k, v]) => `#define ${k} ${v}\n`).join("")
  );
}

/**
 * Builds the host bytecode compiler (once; incremental like the firmware) and compiles
 * the bundle with it. Returns the .xsb path; throws with the compiler's message (a syntax
 * error in the bundle, say). `defines` are the manifest's XS defines: the compiler and the
 * firmware must agree on anything that shapes bytecode (string encoding, say).
 */
async function precompile({ xsDir, bundleFile, outFile, defines = [], log }) {
  const hostDir = join(ROOT, "build/host");
  const tool = join(hostDir, "xs_compile");
  const flags = [
    "-O2", "-w", "-fno-strict-aliasing",
    "-DINCLUDE_XSPLATFORM", '-DXSPLATFORM="xs_platform_virt.h"', "-DmxParse=1", "-DmxRun=1", "-DmxBoundsCheck=1", ...defines,
    `-I${join(ROOT, "platform/xs")}`, `-I${join(xsDir, "includes")}`, `-I${join(xsDir, "platforms")}`, `-I${join(xsDir, "sources")}`,
  ];
  const units = [...xsCFiles(xsDir), join(ROOT, "platform/xs/host/xs_compile.c")].map((src) => ({ src, flags }));
  const { objects } = await compileAll({ cc: "gcc", units, objDir: join(hostDir, "obj"), jobs: 2, log: (m) => log(m.replace("[cc]", "[host cc]")) });
  const newest = Math.max(...objects.map((f) => statSync(f).mtimeMs));
  if (!existsSync(tool) || statSync(tool).mtimeMs < newest) {
    const r = spawnSync("gcc", ["-o", tool, ...objects, "-lm"], { encoding: "utf8" });
    if (r.status !== 0) throw new FirmwareBuildError(`linking the host bytecode compiler failed:\n${r.stderr}`);
  }
  if (existsSync(outFile) && statSync(outFile).mtimeMs >= Math.max(statSync(bundleFile).mtimeMs, statSync(tool).mtimeMs)) return outFile;
  const r = spawnSync(tool, [bundleFile, outFile], { encoding: "utf8" });
  if (r.status !== 0) throw new FirmwareBuildError(`compiling the bundle to bytecode failed:\n${r.stdout}${r.stderr}`);
  log(`[xs] ${r.stdout.trim()}`);
  return outFile;
}

function link({ cross, objects, ldScript, elf, ldflags, log }) {
  const newest = Math.max(...[...objects, ldScript].map((f) => statSync(f).mtimeMs));
  const stampFile = elf + ".flags";
  const stamp = ldflags.join("\0");
  const sameFlags = existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp;
  if (sameFlags && existsSync(elf) && statSync(elf).mtimeMs >= newest) return false;
  log(`[ld] linking ${relative(ROOT, elf)}`);
  const tmp = `${elf}.${process.pid}.tmp`;
  const r = spawnSync(cross + "gcc", [...ldflags, "-T", ldScript, "-o", tmp, ...objects, "-Wl,--start-group", "-lc", "-lm", "-lgcc", "-Wl,--end-group"], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new FirmwareBuildError(`link failed:\n${r.stdout}${r.stderr}`);
  }
  renameSync(tmp, elf); // atomic: a QEMU starting now boots the old or the new image, whole
  writeFileSync(stampFile, stamp);
  return true;
}

function sizes(cross, elf) {
  const r = spawnSync(cross + "size", ["-A", elf], { encoding: "utf8" });
  const sec = {};
  for (const line of r.stdout.split("\n")) {
    const m = /^(\.\S+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) sec[m[1]] = Number(m[2]);
  }
  const g = (k) => sec[k] ?? 0;
  return {
    text: g(".text") + g(".rodata") + g(".ARM.exidx") + g(".ARM.extab") + g(".eh_frame"),
    bundle: 0,
    data: g(".data"),
    bss: g(".bss"),
    stacks: g(".stacks"),
    dma: g(".dma"),
  };
}

/**
 * Builds the firmware for `board` with `entry` (a .ts path; default: the manifest's main
 * module). Returns {elf, sizes, bundleBytes, rebuilt}. `app` (tools/lib/app-build.mjs) is
 * an application's build: {entryPath, outDir, creation, moddefs, typeCheck(log), plugins}:
 * its own entry, output folder, XS creation and MODDEF_* defines, type-check and module
 * resolution; the shared objects are the same.
 */
export async function buildFirmware({ board = DEFAULT_BOARD, entry, quiet = false, app = null } = {}) {
  const log = quiet ? () => {} : (m) => console.log(m);
  const t0 = Date.now();
  const base = readManifest(board);
  const cfg = app === null ? base : { ...base, creation: app.creation };
  if (app !== null) entry = app.entryPath;
  const main = cfg.creation.main ?? "main";
  const entryPath = resolve(ROOT, entry ?? cfg.modules[main] ?? "apps/main.ts");
  if (!existsSync(entryPath)) throw new FirmwareBuildError(`entry module not found: ${relative(ROOT, entryPath)}`);
  const fw = boardFirmware(base.boardJson);
  toolchainCheck(board, fw);
  // Objects are shared; the default entry's ELF is build/fw/<board>/firmware.elf, another
  // entry's goes to build/fw/<board>/entry-<name>/ so that it never replaces the firmware
  // other tools and tests are booting.
  const outDir = join(ROOT, "build/fw", board);
  const defaultEntry = resolve(ROOT, cfg.modules[main] ?? "apps/main.ts");
  const entryDir =
    app !== null ? app.outDir
    : entryPath === defaultEntry ? outDir : join(outDir, `entry-${relative(ROOT, entryPath).replace(/\.ts$/, "").replace(/[^A-Za-z0-9_-]+/g, "_")}`);
  const genDir = join(entryDir, "gen");
  mkdirSync(genDir, { recursive: true });

  if (app !== null) app.typeCheck(log);
  else typeCheck(entryDir, entryPath, log);
  const bundleFile = join(genDir, "bundle.js");
  const bundleBytes = await bundle(entryPath, bundleFile, log, cfg.platform.bundle?.minify ?? "syntax", app?.plugins ?? []);
  writeIfChanged(join(genDir, "fw_config.h"), configHeader(cfg, app?.moddefs ?? {}));
  const xsDir = ensureXsSources(ROOT, log);
  // Bytecode compiled on the build machine (platform/xs/host/xs_compile.c), unless the
  // manifest says `"bundle": {"precompile": false}`: then XS parses the source at boot.
  let embedded = bundleFile;
  if (cfg.platform.bundle?.precompile !== false) {
    if (spawnSync("gcc", ["--version"]).status === 0) {
      embedded = await precompile({ xsDir, bundleFile, outFile: join(genDir, "bundle.xsb"), defines: cfg.platform.defines ?? [], log });
    } else {
      log("[xs] no host gcc (apt-get install gcc): embedding JavaScript source, parsed at every boot");
    }
  }
  writeIfChanged(
    join(genDir, "bundle.S"),
    `/* Generated: the JavaScript bundle, embedded as bytes (link.ld: .bundle).\n` +
      ` * ${basename(embedded)} sha1 ${createHash("sha1").update(readFileSync(embedded)).digest("hex")} (a new bundle changes this file) */\n` +
      `\t.section .bundle, "aw"\n\t.incbin "${embedded}"\n`,
  );

  const arch = [...fw.cflags, ...fw.specs];
  const common = [...arch, "-O2", "-ffunction-sections", "-fdata-sections", "-fno-common", "-ffreestanding", "-fno-builtin-printf"];
  const xsDefs = [
    "-DINCLUDE_XSPLATFORM",
    '-DXSPLATFORM="xs_platform_virt.h"',
    "-DmxParse=1",
    "-DmxRun=1",
    "-DmxBoundsCheck=1",
    ...(cfg.platform.defines ?? []),
  ];
  const platDir = join(ROOT, "platform/xs");
  const archDir = join(platDir, "arch", fw.arch);
  if (!existsSync(archDir)) throw new FirmwareBuildError(`board.json firmware.arch: no folder platform/xs/arch/${fw.arch}`);
  const incs = [`-I${platDir}`, `-I${archDir}`, `-I${join(xsDir, "includes")}`, `-I${join(xsDir, "platforms")}`, `-I${join(xsDir, "sources")}`];
  const xsFlags = [...common, ...xsDefs, ...incs, "-w"];
  const ownFlags = [...common, ...xsDefs, ...incs, "-Wall", "-Wextra", "-Wno-unused-parameter"];
  // Shared objects (XS, platform/xs) never see the entry's generated folder, so switching
  // entries recompiles only main.c (fw_config.h) and bundle.S, into the entry's own folder.
  // The board's C: the common platform/xs/*.c, its architecture's folder, the C library's
  // hooks and the device drivers board.json lists.
  const cSources = (dir) => readdirSync(dir).filter((f) => f.endsWith(".c") || f.endsWith(".S")).map((f) => join(dir, f));
  const own = [
    ...cSources(platDir).filter((f) => basename(f) !== "main.c"),
    ...cSources(archDir),
    join(platDir, "libc/heap.c"),
    join(platDir, `libc/${fw.libc}.c`),
    ...fw.devices.map((d) => join(platDir, "dev", d)),
  ];
  for (const f of own) if (!existsSync(f)) throw new FirmwareBuildError(`board ${board}: ${relative(ROOT, f)} not found`);
  const shared = [
    ...xsCFiles(xsDir).map((src) => ({ src, flags: xsFlags })),
    ...own.map((src) => ({ src, flags: src.endsWith(".S") ? [...arch, ...fw.asflags, ...incs] : ownFlags })),
  ];
  const perEntry = [
    { src: join(platDir, "main.c"), flags: [...ownFlags, `-I${genDir}`] },
    { src: join(genDir, "bundle.S"), flags: [...arch] },
  ];
  const a = await compileAll({ cc: fw.cross + "gcc", units: shared, objDir: join(outDir, "obj"), jobs: 2, log });
  const b = await compileAll({ cc: fw.cross + "gcc", units: perEntry, objDir: join(entryDir, "obj-entry"), jobs: 2, log });
  const objects = [...a.objects, ...b.objects];
  const rebuilt = a.rebuilt + b.rebuilt;

  const dmaBytes = cfg.platform.dmaPoolBytes ?? 4 << 20;
  if (!Number.isInteger(dmaBytes) || dmaBytes <= 0 || dmaBytes % (1 << 20) !== 0 || dmaBytes > 112 << 20) {
    throw new FirmwareBuildError(`manifest: dmaPoolBytes must be a whole number of MiB (1-112), not ${dmaBytes}`);
  }
  const elf = join(entryDir, "firmware.elf");
  const ldflags = [...arch, ...fw.ldflags, "-nostartfiles", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments", `-Wl,-Map=${join(entryDir, "firmware.map")}`, `-Wl,--defsym=__dma_size=${dmaBytes}`];
  const linked = link({ cross: fw.cross, objects, ldScript: join(cfg.boardDir, "link.ld"), elf, ldflags, log });
  const s = sizes(fw.cross, elf);
  s.bundle = bundleBytes;
  s.embedded = statSync(embedded).size;
  log(
    `[fw] ${relative(ROOT, elf)}: text ${s.text}, data ${s.data} (incl. ${embedded.endsWith(".xsb") ? "bytecode" : "JS source"} ${s.embedded}), bss ${s.bss} bytes; bundle.js ${bundleBytes}` +
      `${rebuilt || linked ? "" : " (up to date)"}; ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { elf, sizes: s, bundleBytes, rebuilt };
}
