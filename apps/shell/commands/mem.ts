// `mem [--json]`: the JS engine's heap and slot use (platform.engineStats()) and the DMA
// pool's use (platform.dma.stats()).

import { UsageError, type Command } from "../command.js";
import { bytes, table } from "../format.js";
import { errorLine } from "../inspect.js";

export const memCommand: Command = {
  name: "mem",
  usage: "mem [--json]",
  summary: "JS engine heap and slot use, and DMA pool use",
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
    if (json) {
      io.print(JSON.stringify({ engine, dma: dmaRecord }));
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
    return engine === null ? 1 : 0;
  },
};
