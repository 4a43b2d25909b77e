// `input watch [--count N] [--syn] [--dev N]`, `input info`: virtio input devices through
// the InputDevice API (drivers/input/input-device.ts).
//   watch  prints each event of device N (default 0, in `input info` order) as it comes,
//          `EV_KEY KEY_A 1`, until N events (EV_SYN not counted nor printed unless --syn)
//          or Ctrl-C
//   info   name, serial, ids, the event types and how many codes each, abs ranges

import type { InputDriver } from "../../../drivers/input/input-driver.js";
import { EV, eventCodeName, eventTypeName } from "../../../drivers/input/event-codes.js";
import { UsageError, type Command, type CommandIO } from "../command.js";

/** Anything with the InputDriver's ports() and open() (the driver, or a test's fake). */
export type InputSource = Pick<InputDriver, "ports" | "open">;

const USAGE = "input watch [--count N] [--syn] [--dev N] | input info";

export function inputCommand(driver: InputSource): Command {
  return {
    name: "input",
    usage: USAGE,
    summary: "virtio input: print events as they come (until N or Ctrl-C), or the device's description",
    run(args, io) {
      const [sub, ...rest] = args;
      if (sub !== "watch" && sub !== "info") throw new UsageError(sub === undefined ? "which input command?" : `unknown input command: ${sub}`);
      let count = Infinity;
      let syn = false;
      let dev = 0;
      const number = (i: number, min: number) => /^\d+$/.test(rest[i] ?? "") && Number(rest[i]) >= min;
      for (let i = 0; i < rest.length; i++) {
        const a = rest[i]!;
        if (sub === "watch" && a === "--count" && number(i + 1, 1)) count = Number(rest[++i]);
        else if (sub === "watch" && a === "--dev" && number(i + 1, 0)) dev = Number(rest[++i]);
        else if (sub === "watch" && a === "--syn") syn = true;
        else throw new UsageError(`bad argument: ${a}`);
      }
      const ports = driver.ports();
      if (ports.length === 0) {
        io.print("no virtio input device");
        return 1;
      }
      if (dev >= ports.length) {
        io.print(`no input device ${dev} (there ${ports.length === 1 ? "is 1" : `are ${ports.length}`})`);
        return 1;
      }
      return sub === "watch" ? watch(driver, io, count, syn, dev) : info(driver, io);
    },
  };
}

function watch(driver: InputSource, io: CommandIO, count: number, syn: boolean, dev: number): Promise<number> {
  return new Promise<number>((resolve) => {
    let seen = 0;
    let ended = false;
    const end = (status: number): void => {
      if (ended) return;
      ended = true;
      device.close();
      resolve(status);
    };
    const device = driver.open({
      port: driver.ports()[dev],
      onEvent(event) {
        if (ended || (event.type === EV.SYN && !syn)) return;
        io.print(`${eventTypeName(event.type)} ${eventCodeName(event.type, event.code)} ${event.value}`);
        if (++seen >= count) end(0);
      },
      onError(error) {
        io.print(`input: ${error.message}`);
        if (error.name !== "InputEventError") end(1);
      },
    });
    io.print(`watching ${device.name || "input device"}${count === Infinity ? "" : ` for ${count} events`} (Ctrl-C ends)`);
    void io.untilInterrupted().then(() => end(0));
  });
}

function info(driver: InputSource, io: CommandIO): number {
  driver.ports().forEach((port, i) => {
    const d = port.info;
    if (d === null) {
      io.print(`input ${i} at ${port.location}: not probed`);
      return;
    }
    io.print(`input ${i} at ${port.location}: "${d.name}"${d.serial ? ` serial "${d.serial}"` : ""}`);
    if (d.ids !== null) {
      const h = (n: number) => "0x" + n.toString(16).padStart(4, "0");
      io.print(`  ids     bus ${h(d.ids.bustype)} vendor ${h(d.ids.vendor)} product ${h(d.ids.product)} version ${h(d.ids.version)}`);
    }
    for (const [type, codes] of d.bits) io.print(`  ${eventTypeName(type).padEnd(8)}${codes.length} codes`);
    for (const [axis, a] of d.abs) io.print(`  ${eventCodeName(EV.ABS, axis).padEnd(8)}${a.min}..${a.max} fuzz ${a.fuzz} flat ${a.flat} res ${a.res}`);
    const s = port.stats();
    io.print(`  events  ${s.events} received, ${s.dropped} dropped, ${s.badEvents} bad, ${port.queued} queued`);
  });
  return 0;
}
