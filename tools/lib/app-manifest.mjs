// An application's Moddable-style manifest.json, with its includes merged:
//   { "include": ["$(VIRTIO_XS)/manifest.json"],          the stack's manifest (and others)
//     "modules": { "*": ["./main", "./lib/util"], "name": "./path" },
//     "creation": { ... }, "config": { ... }, "defines": { ... } }
// `$(VIRTIO_XS)` is this repository; other paths are relative to the manifest that names
// them. Included manifests come first; the including one overrides them (modules by name,
// creation / config / defines merged key by key). A module path may omit .ts / .js.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, resolve } from "node:path";
import { ROOT } from "./node-deps.mjs";

export class AppManifestError extends Error {}

const EXTENSIONS = [".ts", ".js", ".mjs"];

function expand(text, dir) {
  const s = String(text).replaceAll("$(VIRTIO_XS)", ROOT);
  if (/\$\([A-Za-z_]+\)/.test(s)) throw new AppManifestError(`unknown variable in "${text}": only $(VIRTIO_XS) (this repository) is defined`);
  return isAbsolute(s) ? s : resolve(dir, s);
}

/** The file a module path names: as given, or with .ts / .js / .mjs added. */
function moduleFile(path, manifest) {
  const candidates = extname(path) ? [path] : EXTENSIONS.map((e) => path + e);
  for (const c of candidates) if (existsSync(c) && statSync(c).isFile()) return c;
  throw new AppManifestError(`${manifest}: module ${path} not found (tried ${candidates.map((c) => basename(c)).join(", ")})`);
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function mergeDeep(a, b) {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObject(v) && isObject(a[k]) ? mergeDeep(a[k], v) : v;
  return out;
}

/**
 * Reads `file` and what it includes. Returns {modules: {name: absolute file}, creation,
 * config, defines, platforms, files: [every manifest read]}.
 */
export function loadAppManifest(file, seen = []) {
  const path = resolve(file);
  if (seen.includes(path)) throw new AppManifestError(`${path}: included twice (${[...seen, path].join(" -> ")})`);
  if (!existsSync(path)) throw new AppManifestError(`${path}: no such manifest`);
  let json;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new AppManifestError(`${path}: not valid JSON: ${e.message}`);
  }
  if (!isObject(json)) throw new AppManifestError(`${path}: a manifest is a JSON object`);
  const dir = dirname(path);
  let merged = { modules: {}, creation: {}, config: {}, defines: {}, platforms: {}, files: [] };
  const includes = json.include === undefined ? [] : Array.isArray(json.include) ? json.include : [json.include];
  for (const inc of includes) {
    const sub = loadAppManifest(expand(inc, dir), [...seen, path]);
    merged = {
      modules: { ...merged.modules, ...sub.modules },
      creation: mergeDeep(merged.creation, sub.creation),
      config: mergeDeep(merged.config, sub.config),
      defines: isObject(sub.defines) ? mergeDeep(merged.defines, sub.defines) : merged.defines,
      platforms: mergeDeep(merged.platforms, sub.platforms),
      files: [...merged.files, ...sub.files],
    };
  }
  const modules = { ...merged.modules };
  for (const [name, value] of Object.entries(json.modules ?? {})) {
    const paths = Array.isArray(value) ? value : [value];
    for (const p of paths) {
      if (typeof p !== "string") throw new AppManifestError(`${path}: modules["${name}"] must be a path or a list of paths`);
      const abs = expand(p, dir);
      const found = moduleFile(abs, path);
      // "*": each file is the module named after it ("./lib/util" is "util").
      modules[name === "*" ? basename(abs, extname(abs)) : name] = found;
    }
  }
  for (const key of ["creation", "config", "platforms"]) {
    if (json[key] !== undefined && !isObject(json[key])) throw new AppManifestError(`${path}: "${key}" must be an object`);
  }
  if (json.defines !== undefined && !isObject(json.defines) && !Array.isArray(json.defines)) throw new AppManifestError(`${path}: "defines" must be an object`);
  return {
    modules,
    creation: mergeDeep(merged.creation, json.creation ?? {}),
    config: mergeDeep(merged.config, json.config ?? {}),
    defines: isObject(json.defines) ? mergeDeep(merged.defines, json.defines) : merged.defines,
    platforms: mergeDeep(merged.platforms, json.platforms ?? {}),
    files: [...merged.files, path],
  };
}

/** Moddable's `defines` object flattened to C macros: {a: {b: 1}} -> MODDEF_A_B 1. */
export function moddefs(defines, prefix = "MODDEF") {
  const out = {};
  for (const [k, v] of Object.entries(defines ?? {})) {
    const name = `${prefix}_${k.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`;
    if (isObject(v)) Object.assign(out, moddefs(v, name));
    else if (typeof v === "boolean") out[name] = v ? 1 : 0;
    else if (typeof v === "number") out[name] = v;
    else out[name] = JSON.stringify(String(v));
  }
  return out;
}
