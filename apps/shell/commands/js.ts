// `js <expression>`: evaluates JavaScript in global scope (indirect eval) and prints the
// result readably (inspect.ts); a promise (or an expression using `await`) is awaited.
// An exception prints `Name: message` and its stack, status 1; the shell stays up.
// Globals for it: platform, bus, shell, devices (a getter: bus.devices()), and the app's.

import { UsageError, type Command, type CommandIO } from "../command.js";
import { display, errorReport } from "../inspect.js";

const globalEval: (source: string) => unknown = globalThis.eval;

/** The first stack frame that is not the user's code: eval itself (V8 "eval
 * (<anonymous>)", XS "eval ()") or this file's evaluate(). */
const EVAL_FRAMES = /^at (eval \((<anonymous>)?\)|evaluate\b)/;

/** Defines (or redefines) the globals `js` code can use. */
export function installGlobals(io: CommandIO): void {
  const define = (name: string, descriptor: PropertyDescriptor) =>
    Object.defineProperty(globalThis, name, { configurable: true, enumerable: false, ...descriptor });
  define("platform", { value: io.platform, writable: true });
  define("bus", { value: io.bus, writable: true });
  define("shell", { value: io.shell, writable: true });
  define("devices", { get: () => (io.bus === null ? [] : io.bus.devices()) });
  for (const [name, value] of Object.entries(io.globals)) define(name, { value, writable: true });
}

/** Evaluates `source` as a script; `{...}` as an object first; if it only parses inside
 * an async function (it uses `await`), evaluates it there. */
export function evaluate(source: string): unknown {
  if (/^\{[\s\S]*\}$/.test(source)) {
    // `{a: 1}` means an object here, not a block (as in Node's REPL).
    try {
      return globalEval(`(${source}\n)`);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  try {
    return globalEval(source);
  } catch (error) {
    if (!(error instanceof SyntaxError) || !/\bawait\b/.test(source)) throw error;
    return globalEval(`(async () => (${source}\n))()`);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function";
}

export const jsCommand: Command = {
  name: "js",
  usage: "js <expression>",
  summary: "evaluate JavaScript (globals: platform, bus, devices, shell); promises are awaited",
  rawArgs: true,
  async run(_args, io) {
    const source = io.argText.trim();
    if (source === "") throw new UsageError("nothing to evaluate");
    installGlobals(io);
    try {
      let value = evaluate(source);
      if (isThenable(value)) value = await value;
      io.print(display(value));
      return 0;
    } catch (error) {
      io.print(errorReport(error, EVAL_FRAMES));
      return 1;
    }
  },
};
