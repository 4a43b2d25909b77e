// `console ...`: virtio console ports through the Serial API (drivers/console/serial.ts).
// A port is the first console device's port 0, or (MULTIPORT) the port the device named NAME.
//   ports              every port: device, id, name, host end open, console, state
//   write [NAME] TEXT  sends TEXT and "\n" to port NAME (when the first word names a port)
//                      or to port 0 (waits for room when TEXT is longer than the buffers)
//   echo [NAME]        sends back every byte that arrives, until a line `quit` or Ctrl-C
//   info               size (cols x rows, when the device gives it), state and counters
//   emerg TEXT         TEXT and "\n" through emerg_wr (EMERG_WRITE), no queue: for panics

import type { ConsoleDriver } from "../../../drivers/console/console-driver.js";
import type { ConsolePort } from "../../../drivers/console/console-port.js";
import type { Serial } from "../../../drivers/console/serial.js";
import { utf8Encode } from "../../../drivers/console/utf8.js";
import type { Timers } from "../../../platform/platform.js";
import { UsageError, type Command, type CommandIO } from "../command.js";

/** Anything with the ConsoleDriver's ports() and open() (the driver, or a test's fake). */
export type ConsoleSource = Pick<ConsoleDriver, "ports" | "open" | "devices" | "findPort" | "emergencyWrite">;

/** Longest wait for transmit room before `console write` gives up. */
const WRITE_TIMEOUT_MS = 5000;

const USAGE = "console ports | console write [NAME] TEXT | console echo [NAME] | console info | console emerg TEXT";

export function consoleCommand(driver: ConsoleSource): Command {
  return {
    name: "console",
    usage: USAGE,
    summary: "virtio console ports: list them, write TEXT and a newline to port 0 or a named port, echo input until a line 'quit', info, emergency write",
    rawArgs: true,
    async run(_args, io) {
      const match = /^(\S*)\s?([\s\S]*)$/.exec(io.argText)!;
      const sub = match[1];
      const rest = match[2]!;
      if (sub !== "write" && sub !== "echo" && sub !== "emerg" && rest.trim() !== "") throw new UsageError(`console ${sub} takes no arguments`);
      if (driver.ports().length === 0) {
        io.print("no virtio console device");
        return 1;
      }
      if (sub === "write") {
        // `write NAME TEXT` when the first word names a port, else all of it to port 0.
        const named = /^(\S+) ([\s\S]*)$/.exec(rest);
        const port = named === null ? undefined : driver.findPort(named[1]!);
        return write(driver, io, port === undefined ? `${rest}\n` : `${named![2]}\n`, port);
      }
      if (sub === "echo") {
        const name = rest.trim();
        const port = name === "" ? undefined : driver.findPort(name);
        if (name !== "" && port === undefined) throw new UsageError(`no console port named "${name}" (console ports lists them)`);
        return echo(driver, io, port);
      }
      if (sub === "ports") return ports(driver, io);
      if (sub === "info") return info(driver, io);
      if (sub === "emerg") {
        if (driver.emergencyWrite(`${rest}\n`)) return 0;
        io.print("no console device offers EMERG_WRITE");
        return 1;
      }
      throw new UsageError(sub === "" ? "which console command?" : `unknown console command: ${sub}`);
    },
  };
}

function ports(driver: ConsoleSource, io: CommandIO): number {
  io.print("DEV  ID  NAME                  OPEN  CONSOLE  STATE");
  driver.devices().forEach((d, i) => {
    for (const p of d.list()) {
      const open = p.hostOpen === null ? "-" : p.hostOpen ? "yes" : "no";
      const state = p.broken ? `broken: ${p.broken.message}` : p.live ? "live" : "not live";
      io.print(`${String(i).padEnd(4)} ${String(p.id).padEnd(3)} ${(p.name ?? "-").padEnd(21)} ${open.padEnd(5)} ${(p.isConsole ? "yes" : "no").padEnd(8)} ${state}`);
    }
  });
  return 0;
}

/** Writes all of `bytes`, in pieces as room frees; resolves when the last piece is queued. */
function writeAll(serial: Serial, bytes: Uint8Array, timers: Timers, wake: { fn: (() => void) | null }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let at = 0;
    let timer: number | null = null;
    const pump = (): void => {
      try {
        while (at < bytes.length) {
          const room = serial.writable;
          if (room === 0) break;
          const n = Math.min(room, bytes.length - at);
          serial.write(bytes.subarray(at, at + n));
          at += n;
        }
      } catch (error) {
        finish(error as Error);
        return;
      }
      if (at >= bytes.length) finish(null);
    };
    const finish = (error: Error | null): void => {
      wake.fn = null;
      if (timer !== null) timers.clear(timer);
      if (error === null) resolve();
      else reject(error);
    };
    wake.fn = pump;
    timer = timers.set(() => finish(new Error(`console write: no transmit room for ${WRITE_TIMEOUT_MS} ms`)), WRITE_TIMEOUT_MS);
    pump();
  });
}

async function write(driver: ConsoleSource, io: CommandIO, text: string, port?: ConsolePort): Promise<number> {
  const wake: { fn: (() => void) | null } = { fn: null };
  const serial = driver.open({ port, onWritable: () => wake.fn?.() });
  try {
    await writeAll(serial, utf8Encode(text), io.platform.timers, wake);
  } finally {
    serial.close();
  }
  return 0;
}

/**
 * Echo with flow control: bytes are read only as far as they can be written back, so a
 * fast sender fills the port's receive limit and then waits in the device (no copy grows
 * without bound here).
 */
function echo(driver: ConsoleSource, io: CommandIO, port?: ConsolePort): Promise<number> {
  return new Promise<number>((resolve) => {
    let line = "";
    let quit = false;
    let echoed = 0;
    let ended = false;
    const end = (status: number, why: string): void => {
      if (ended) return;
      ended = true;
      serial.close();
      io.print(`echo ended (${why}): ${echoed} bytes echoed`);
      resolve(status);
    };
    const pump = (): void => {
      if (ended) return;
      try {
        while (!quit && serial.readable > 0 && serial.writable > 0) {
          const data = serial.read(serial.writable);
          if (!(data instanceof ArrayBuffer)) break;
          const bytes = new Uint8Array(data);
          serial.write(bytes);
          echoed += bytes.length;
          quit = sawQuit(bytes);
        }
      } catch (error) {
        io.print(`console: ${(error as Error).message}`);
        end(1, "error");
        return;
      }
      if (quit) end(0, "quit");
    };
    /** Follows the lines; true once a line reads exactly `quit`. */
    const sawQuit = (bytes: Uint8Array): boolean => {
      for (const b of bytes) {
        if (b === 0x0a || b === 0x0d) {
          if (line === "quit") return true;
          line = "";
        } else if (line.length < 16) line += String.fromCharCode(b);
      }
      return false;
    };
    const serial = driver.open({
      port,
      onReadable: pump,
      onWritable: pump,
      onError(error) {
        io.print(`console: ${error.message}`);
        end(1, "error");
      },
    });
    io.print(`echoing ${port?.name === undefined || port.name === null ? "the virtio console" : `port ${port.name}`}; a line 'quit' (or Ctrl-C) ends it`);
    void io.untilInterrupted().then(() => end(0, "interrupted"));
  });
}

function info(driver: ConsoleSource, io: CommandIO): number {
  driver.ports().forEach((port, i) => {
    const size = port.size;
    const s = port.stats();
    io.print(`console ${i} at ${port.location}: port 0, ${port.live ? "live" : "not live"}${port.broken ? `, broken: ${port.broken.message}` : ""}`);
    io.print(`  size      ${size === null ? "not given (no VIRTIO_CONSOLE_F_SIZE)" : `${size.cols} cols x ${size.rows} rows`}`);
    io.print(`  received  ${s.bytesReceived} bytes in ${s.rxCompletions} buffers, ${port.readable} unread`);
    io.print(`  sent      ${s.bytesSent} bytes in ${s.txCompletions} buffers, ${port.writable} bytes of room`);
  });
  return 0;
}
