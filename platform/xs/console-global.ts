// A `console` global for code running on XS (XS has none): log/info/debug/warn/error
// format their arguments and write one line to the UART. Installed once by platform.ts.

/** An error's message and stack (XS's stack starts with the message line: not repeated). */
export function errorText(error: Error): string {
  const head = String(error);
  const stack = typeof error.stack === "string" ? error.stack : "";
  if (!stack) return head;
  return stack.startsWith(head) ? stack : `${head}\n${stack}`;
}

function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return errorText(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function" || typeof value === "symbol" || value === undefined) return String(value);
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Sets globalThis.console if the engine has none; `write` sends a text line. */
export function installConsole(write: (text: string) => void): void {
  const g = globalThis as { console?: unknown };
  if (g.console) return;
  const line = (...args: unknown[]) => write(args.map(show).join(" ") + "\n");
  g.console = Object.freeze({ log: line, info: line, debug: line, warn: line, error: line, trace: line });
}
