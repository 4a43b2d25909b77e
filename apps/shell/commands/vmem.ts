// `vmem [--json]`: the virtio-mem device's region, block size, usable, plugged and
// requested sizes, the blocks this driver holds and its request counters (VIRTIO 1.2 §5.15).

import type { MemDriver } from "../../../drivers/mem/mem-driver.js";
import { UsageError, type Command } from "../command.js";
import { bytes, table } from "../format.js";

export type MemSource = Pick<MemDriver, "devices">;

export function vmemCommand(driver: MemSource): Command {
  return {
    name: "vmem",
    usage: "vmem [--json]",
    summary: "virtio-mem: region, plugged and requested size, blocks, requests",
    run(args, io) {
      const json = args[0] === "--json";
      if (args.length > (json ? 1 : 0)) throw new UsageError(`unexpected argument: ${args[json ? 1 : 0]}`);
      const device = driver.devices()[0];
      if (device === undefined) {
        io.print("no virtio-mem device");
        return 1;
      }
      const c = device.config;
      const states = device.blockStates();
      const record = {
        location: device.location,
        config: c,
        pluggedBytes: device.pluggedBytes,
        blocks: { total: states.length, plugged: states.filter((s) => s === "plugged").length, unknown: states.filter((s) => s === "unknown").length },
        settled: device.settled,
        broken: device.broken?.message ?? null,
        lastError: device.lastError?.message ?? null,
        counters: device.stats(),
      };
      if (json) {
        io.print(JSON.stringify(record));
        return 0;
      }
      if (c === null) {
        io.print(`virtio-mem ${device.location}: no configuration read${record.broken ? ` (${record.broken})` : ""}`);
        return 1;
      }
      io.print(`virtio-mem ${device.location}: region 0x${c.addr.toString(16)}+${bytes(c.regionSize)}, blocks of ${bytes(c.blockSize)}`);
      const s = record.counters;
      const rows = [
        ["usable", bytes(c.usableRegionSize)],
        ["requested", bytes(c.requestedSize)],
        ["plugged (device)", bytes(c.pluggedSize)],
        ["plugged (driver)", `${bytes(record.pluggedBytes)}, ${record.blocks.plugged} of ${record.blocks.total} blocks${record.settled ? "" : ", moving"}`],
        ["requests", `plug ${s.plugRequests}, unplug ${s.unplugRequests}, unplug-all ${s.unplugAllRequests}, state ${s.stateRequests}`],
        ["answers", `nack ${s.nacks}, busy ${s.busy}, error ${s.errors}`],
      ];
      if (record.broken) rows.push(["broken", record.broken]);
      else if (record.lastError) rows.push(["last error", record.lastError]);
      for (const line of table(rows)) io.print(`  ${line}`);
      return 0;
    },
  };
}
