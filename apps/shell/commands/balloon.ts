// `balloon [--json]`: the memory balloon's target and actual size, what was negotiated, its
// counters and the statistics it reports to the host (VIRTIO 1.2 §5.5).

import type { BalloonDriver } from "../../../drivers/balloon/balloon-driver.js";
import { STAT_NAMES } from "../../../drivers/balloon/balloon-spec.js";
import { UsageError, type Command } from "../command.js";
import { bytes, table } from "../format.js";

export type BalloonSource = Pick<BalloonDriver, "devices">;

const PAGE = 4096;

export function balloonCommand(driver: BalloonSource): Command {
  return {
    name: "balloon",
    usage: "balloon [--json]",
    summary: "virtio-balloon: target, actual, negotiated features, statistics sent to the host",
    run(args, io) {
      const json = args[0] === "--json";
      if (args.length > (json ? 1 : 0)) throw new UsageError(`unexpected argument: ${args[json ? 1 : 0]}`);
      const device = driver.devices()[0];
      if (device === undefined) {
        io.print("no virtio-balloon device");
        return 1;
      }
      const s = device.stats();
      const m = device.memoryFigures();
      const record = {
        location: device.location,
        targetPages: s.targetPages,
        actualPages: s.actualPages,
        targetBytes: s.targetPages * PAGE,
        actualBytes: s.actualPages * PAGE,
        settled: device.settled,
        broken: device.broken?.message ?? null,
        negotiated: device.negotiated,
        counters: s,
        memory: m,
      };
      if (json) {
        io.print(JSON.stringify(record));
        return 0;
      }
      io.print(`balloon ${device.location}: target ${bytes(record.targetBytes)} (${s.targetPages} pages), actual ${bytes(record.actualBytes)} (${s.actualPages} pages)${device.settled ? "" : ", moving"}`);
      if (record.broken) io.print(`  broken: ${record.broken}`);
      const n = device.negotiated;
      const on = Object.entries(n).filter(([, v]) => v).map(([k]) => k);
      io.print(`  features: ${on.length > 0 ? on.join(" ") : "(none)"}`);
      const rows = [
        [STAT_NAMES[5]!, bytes(m.total)],
        [STAT_NAMES[4]!, bytes(m.free)],
        [STAT_NAMES[6]!, bytes(m.available)],
        ["heap-in-use", m.heapInUse === null ? "-" : bytes(m.heapInUse)],
        ["inflate/deflate requests", `${s.inflateRequests}/${s.deflateRequests}`],
        ["stats requests", String(s.statsRequests)],
        ["shortfall", `${s.shortfallPages} pages`],
        ["oom pages", String(s.oomPages)],
        ["reports", `${s.reports} (${s.reportedPages} pages)`],
      ];
      for (const line of table(rows)) io.print(`  ${line}`);
      return 0;
    },
  };
}
