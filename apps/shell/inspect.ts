// Prints any JavaScript value readably on one line, for `js`: strings quoted inside
// structures, bigint with n, functions as [Function name], Uint8Array as short hex,
// objects and arrays JSON-ish with cycles shown as [Circular]. Never throws: a getter or
// proxy that throws shows up as [Getter] / [Uninspectable].

/** Bytes of a Uint8Array shown before "...". */
export const MAX_BYTES = 32;
/** Entries of an array, object, Map or Set shown before "... N more". */
export const MAX_ENTRIES = 50;
/** Nesting shown before [Object] / [Array]. */
export const MAX_DEPTH = 4;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The value as `js` prints it at top level: a string is printed as-is. */
export function display(value: unknown): string {
  return typeof value === "string" ? value : inspect(value);
}

/** The value as it would appear inside a structure. */
export function inspect(value: unknown): string {
  try {
    return format(value, 0, []);
  } catch {
    return "[Uninspectable]";
  }
}

function format(value: unknown, depth: number, seen: object[]): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return functionName(value);
    case "undefined":
    case "boolean":
      return String(value);
  }
  if (value === null) return "null";
  return formatObject(value as object, depth, seen);
}

function functionName(fn: Function): string {
  const name = typeof fn.name === "string" && fn.name !== "" ? fn.name : "(anonymous)";
  return `[Function ${name}]`;
}

function formatObject(obj: object, depth: number, seen: object[]): string {
  if (seen.includes(obj)) return "[Circular]";
  if (obj instanceof Uint8Array) return hexBytes(obj);
  if (obj instanceof Error) return errorLine(obj);
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? "Invalid Date" : obj.toISOString();
  if (obj instanceof RegExp) return String(obj);
  if (obj instanceof Promise) return "Promise {}";
  if (obj instanceof ArrayBuffer) return `ArrayBuffer(${obj.byteLength})`;
  if (obj instanceof DataView) return `DataView(${obj.byteLength})`;
  if (depth >= MAX_DEPTH) return Array.isArray(obj) ? "[Array]" : "[Object]";
  seen.push(obj);
  try {
    const inner = (v: unknown): string => format(v, depth + 1, seen);
    if (Array.isArray(obj)) return `[${list(obj, inner).join(", ")}]`;
    if (ArrayBuffer.isView(obj)) return typedArray(obj as unknown as ArrayLike<unknown>, inner);
    if (obj instanceof Map) {
      const items = list([...obj], ([k, v]) => `${inner(k)} => ${inner(v)}`);
      return `Map(${obj.size}) {${items.join(", ")}}`;
    }
    if (obj instanceof Set) return `Set(${obj.size}) {${list([...obj], inner).join(", ")}}`;
    return plainObject(obj, inner);
  } finally {
    seen.pop();
  }
}

function list<T>(items: readonly T[], each: (item: T) => string): string[] {
  const out = items.slice(0, MAX_ENTRIES).map(each);
  if (items.length > MAX_ENTRIES) out.push(`... ${items.length - MAX_ENTRIES} more`);
  return out;
}

function hexBytes(bytes: Uint8Array): string {
  let hex = "";
  const n = Math.min(bytes.length, MAX_BYTES);
  for (let i = 0; i < n; i++) hex += bytes[i]!.toString(16).padStart(2, "0");
  const more = bytes.length > MAX_BYTES ? `... (${bytes.length - MAX_BYTES} more)` : "";
  return `Uint8Array(${bytes.length}) ${hex === "" ? "[]" : hex}${more}`;
}

function typedArray(view: ArrayLike<unknown>, inner: (v: unknown) => string): string {
  const name = (view as object).constructor?.name ?? "TypedArray";
  return `${name}(${view.length}) [${list(Array.from(view), inner).join(", ")}]`;
}

function plainObject(obj: object, inner: (v: unknown) => string): string {
  const keys = Object.keys(obj);
  const entries = list(keys, (key) => {
    const desc = Object.getOwnPropertyDescriptor(obj, key);
    const shown = desc === undefined ? "undefined" : "value" in desc ? inner(desc.value) : accessor(desc);
    return `${IDENTIFIER.test(key) ? key : JSON.stringify(key)}: ${shown}`;
  });
  const proto = Object.getPrototypeOf(obj) as { constructor?: { name?: unknown } } | null;
  const ctor = proto === null ? "[Object: null prototype]" : proto.constructor?.name;
  const prefix = typeof ctor === "string" && ctor !== "Object" && ctor !== "" ? `${ctor} ` : "";
  return entries.length === 0 ? `${prefix}{}` : `${prefix}{${entries.join(", ")}}`;
}

function accessor(desc: PropertyDescriptor): string {
  return desc.get && desc.set ? "[Getter/Setter]" : desc.get ? "[Getter]" : "[Setter]";
}

/** `Name: message` of an error (or of anything thrown). */
export function errorLine(error: unknown): string {
  if (error instanceof Error || (typeof error === "object" && error !== null && "message" in error)) {
    const e = error as { name?: unknown; message?: unknown };
    const name = typeof e.name === "string" && e.name !== "" ? e.name : "Error";
    return `${name}: ${String(e.message)}`;
  }
  return `Uncaught ${inspect(error)}`;
}

/** Stack frames an error report shows at most. */
export const MAX_FRAMES = 12;

/**
 * The full report of a thrown value: `Name: message`, then the stack's frames when the
 * engine gives them (V8 repeats the first line in `stack`; XS gives only frames). Frames
 * from the first one matching `stopAt` on are left out (the shell's own machinery).
 */
export function errorReport(error: unknown, stopAt?: RegExp): string {
  const head = errorLine(error);
  let stack: unknown;
  try {
    stack = (error as { stack?: unknown } | null)?.stack;
  } catch {
    stack = undefined;
  }
  if (typeof stack !== "string" || stack.trim() === "") return head;
  const lines = stack.replace(/\s+$/, "").split("\n");
  if (lines[0] === head || lines[0]!.startsWith(head)) lines.shift();
  let frames = lines.map((l) => l.trim()).filter((l) => l !== "");
  const stop = stopAt === undefined ? -1 : frames.findIndex((l) => stopAt.test(l));
  if (stop >= 0) frames = frames.slice(0, stop);
  if (frames.length > MAX_FRAMES) frames = [...frames.slice(0, MAX_FRAMES), `... ${frames.length - MAX_FRAMES} more`];
  return frames.length === 0 ? head : `${head}\n${frames.map((l) => `    ${l}`).join("\n")}`;
}
