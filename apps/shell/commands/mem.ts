// `mem [--json]`: the JS engine's heap and slot use (platform.engineStats()), the DMA
// pool's use (platform.dma.stats()) and the page pool's (platform.pages, by holder).

import { UsageError, type Command } from "../command.js";
import { bytes, table } from "../format.js";
import { errorLine } from "../inspect.js";

export const memCommand: Command = {
  name: "mem",
  usage: "mem [--json]",
  summary: "JS engine heap and slot use, DMA pool use, page pool use",
  run(args, io) {
    const json = args[0] === "--json";
    if (args.length > (json ? 1 : 0)) throw new UsageError(`unexpected argument: ${args[json ? 1 : 0]}`);
    let engine: Record<string, number> | null = null;
    let engineError = "";
    try {
      engine = { ...io.platform.engineStats() };
    } catch (error) {
      engineError = errorLine(error);
    }
    const dma = io.platform.dma.stats();
    const dmaRecord = { total: dma.total, used: dma.used, free: dma.total - dma.used, peak: dma.peak, allocations: dma.allocations };
    const pages = io.platform.pages?.stats() ?? null;
    if (json) {
      io.print(JSON.stringify({ engine, dma: dmaRecord, pages }));
      return engine === null ? 1 : 0;
    }
    io.print(`engine (${io.platform.name}):`);
    if (engine === null) io.print(`  unavailable: ${engineError}`);
    else if (Object.keys(engine).length === 0) io.print("  (no statistics)");
    else for (const line of table(Object.entries(engine).map(([k, v]) => [k, String(v)]))) io.print(`  ${line}`);
    io.print("dma pool:");
    const rows = [
      ["total", bytes(dmaRecord.total)],
      ["used", bytes(dmaRecord.used)],
      ["free", bytes(dmaRecord.free)],
      ["peak", bytes(dmaRecord.peak)],
      ["allocations", String(dmaRecord.allocations)],
    ];
    for (const line of table(rows)) io.print(`  ${line}`);
    if (pages !== null) {
      const where = pages.regions.map((r) => `0x${r.phys.toString(16).padStart(8, "0")}+${bytes(r.bytes)}`).join(", ");
      io.print(`page pool (${pages.pageSize / 1024} KiB pages${where ? `: ${where}` : ""}):`);
      const poolRows = [
        ["total", `${bytes(pages.totalPages * pages.pageSize)} (${pages.totalPages} pages)`],
        ["free", `${bytes(pages.freePages * pages.pageSize)} (${pages.freePages} pages)`],
        ...Object.entries(pages.held).map(([holder, n]) => [`held by ${holder}`, `${n} pages`]),
      ];
      for (const line of table(poolRows)) io.print(`  ${line}`);
    }
    return engine === null ? 1 : 0;
  },
};
