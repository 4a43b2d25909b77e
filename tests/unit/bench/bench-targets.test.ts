// The bench's own logic (tools/lib/bench-*.mjs, tools/lib/peers/*.mjs): medians, the
// issue's targets and their verdicts from a report, the method lines, and the parsing of
// the Linux peer's blkbench lines. Plain functions, no QEMU.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";

// build/ts/tests/unit/bench -> the repository root.
const ROOT = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..", "..", "..");
const load = async (path: string): Promise<Record<string, any>> => (await import(pathToFileURL(join(ROOT, path)).href)) as Record<string, any>;

type Figure = { median: number; min: number; max: number; n: number };
const fig = (median: number): Figure => ({ median, min: median, max: median, n: 1 });

/** A report where every target is met (modern only). */
function goodReport(): Record<string, Record<string, Figure>> {
  return {
    ours: {
      qd1_read_iops: fig(5000), qd32_read_iops: fig(12000), qd1_write_iops: fig(4000), qd32_write_iops: fig(11000),
      seq_read_mibps: fig(4000), ready_s: fig(0.2), qd32_notifications_per_request: fig(0.03),
      qd32_interrupts_per_request: fig(0.03), xs_heap_peak_bytes_after_qd32: fig(5000000),
    },
    uboot: { qd1_read_iops: fig(4500), qd1_read_iops_echo_corrected: fig(20000), seq_read_mibps: fig(4200), seq_read_mibps_echo_corrected: fig(4400), ready_s: fig(0.22) },
    linux: { qd1_read_iops: fig(3500), qd32_read_iops: fig(10000), qd1_write_iops: fig(3000), qd32_write_iops: fig(10000) },
  };
}

test("summarize: median of an even and an odd count, non-numbers left out", async () => {
  const { summarize, Samples, ratio } = await load("tools/lib/bench-stats.mjs");
  assert.equal(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
  assert.equal(summarize([4, 1, 2, 3, NaN, null]), { median: 2.5, min: 1, max: 4, n: 4 });
  assert.is(summarize([]), null);
  const s = new Samples();
  s.add("a", 1);
  s.add("a", 3);
  s.add("b", NaN);
  assert.equal(s.figures(), { a: { median: 2, min: 1, max: 3, n: 2 } });
  assert.is(ratio(fig(3), fig(2)), 1.5);
  assert.is(ratio(fig(3), null), null);
});

test("targets: every one met on a good report, with its ratio", async () => {
  const { checkTargets } = await load("tools/lib/bench-targets.mjs");
  const list = checkTargets(goodReport(), "") as { id: string; value: number; met: boolean | null; detail: string }[];
  const by = Object.fromEntries(list.map((t) => [t.id, t]));
  assert.equal(list.map((t) => t.id), [
    "qd1_read_vs_linux", "qd1_read_vs_uboot", "qd32_read_vs_linux", "qd1_write_vs_linux", "qd32_write_vs_linux",
    "seq_read_vs_uboot", "ready_vs_uboot", "qd32_events_per_request", "xs_heap_peak_vs_baseline",
  ]);
  for (const t of list) assert.is(t.met, true, t.id);
  assert.is(by.qd1_read_vs_linux!.value, 1.429);
  // Depth 1 is checked against U-Boot's whole-command rate; the echo-corrected ratio is shown.
  assert.is(by.qd1_read_vs_uboot!.value, 1.111);
  assert.match(by.qd1_read_vs_uboot!.detail, /0\.25x of U-Boot's echo-corrected/);
  assert.is(by.seq_read_vs_uboot!.value, 0.952);
  assert.is(by.qd32_events_per_request!.value, 0.06);
  assert.is(by.ready_vs_uboot!.value, 0.909);
});

test("targets: a miss is a miss at its goal's edge, a missing figure is never a pass", async () => {
  const { checkTargets, HEAP_BASELINE_BYTES } = await load("tools/lib/bench-targets.mjs");
  const rep = goodReport();
  rep.ours!.seq_read_mibps = fig(0.89 * 4200); // just under 0.9x
  rep.ours!.ready_s = fig(0.23); // slower than U-Boot
  rep.ours!.qd32_interrupts_per_request = fig(0.08); // 0.11 events per request
  rep.ours!.xs_heap_peak_bytes_after_qd32 = fig(HEAP_BASELINE_BYTES + 1);
  delete rep.linux!.qd32_write_iops;
  const by = Object.fromEntries((checkTargets(rep, "") as { id: string; met: boolean | null }[]).map((t) => [t.id, t.met]));
  assert.is(by.seq_read_vs_uboot, false);
  assert.is(by.ready_vs_uboot, false);
  assert.is(by.qd32_events_per_request, false);
  assert.is(by.xs_heap_peak_vs_baseline, false);
  assert.is(by.qd32_write_vs_linux, null);
  assert.is(by.qd1_read_vs_linux, true);
  // Exactly at the goal counts as met.
  rep.ours!.qd1_read_iops = fig(3500);
  const edge = (checkTargets(rep, "") as { id: string; met: boolean | null }[]).find((t) => t.id === "qd1_read_vs_linux")!;
  assert.is(edge.met, true);
});

test("targets: the legacy suffix picks the legacy figures only", async () => {
  const { checkTargets } = await load("tools/lib/bench-targets.mjs");
  const rep = goodReport();
  const legacy: Record<string, Record<string, Figure>> = { ours: {}, uboot: {}, linux: {} };
  for (const who of ["ours", "uboot", "linux"]) for (const [k, v] of Object.entries(rep[who]!)) legacy[who]![`${k}_legacy`] = v;
  legacy.ours!.qd1_read_iops_legacy = fig(1000);
  const by = Object.fromEntries((checkTargets(legacy, "_legacy") as { id: string; met: boolean | null }[]).map((t) => [t.id, t.met]));
  assert.is(by.qd1_read_vs_linux, false);
  assert.is(by.qd32_read_vs_linux, true);
  assert.ok((checkTargets(legacy, "") as { met: boolean | null }[]).every((t) => t.met === null), "no modern figures: nothing met");
});

test("report: method lines name request sizes and depths; Markdown has a verdict per target", async () => {
  const { methodLines, reportMarkdown } = await load("tools/lib/bench-report.mjs");
  const { checkTargets } = await load("tools/lib/bench-targets.mjs");
  const rep: Record<string, any> = goodReport();
  rep.ours.seq_requests_per_pass = fig(16);
  rep.ours.seq_request_kib = fig(4096);
  rep.linux.queue_max_sectors_kb = fig(1280);
  rep.linux.queue_max_segments = fig(254);
  rep.ratios = { uboot: {}, linux: {} };
  rep.targets = { modern: checkTargets(rep, "") };
  rep.meta = {
    date: "d", seconds: 1, qemu: "7.2", machine: "m", host: "h", loadavg: ["1"], loadavgStart: ["0"], runs: 1, failures: [],
    seq: { reqKiB: "max", linuxReqKiB: 4096, depth: 4, passes: 4 }, counts: { qd1: 1000, qd32: 2000, w1: 400, w32: 1000, uboot: 1000 },
  };
  const lines = (methodLines(rep) as string[]).join("\n");
  assert.match(lines, /4096 KiB requests \(16 per pass\), 4 in flight/);
  assert.match(lines, /one request \(one 64 MiB descriptor\), depth 1/);
  assert.match(lines, /4096 KiB O_DIRECT preads, 4 in flight \(AIO\).*at most 1280 KiB, 254 segments/);
  const md = reportMarkdown(rep) as string;
  assert.match(md, /\| qd1_read_vs_uboot \| 1\.111 \| >= 1 \| met \|/);
  assert.match(md, /\| ready_vs_uboot \| 0\.909 \| <= 1 \| met \|/);
});

test("linux peer: blkbench lines parse, the check's time is left out, a bad read fails", async () => {
  const { blkbenchResult, blkbenchSeqPasses } = await load("tools/lib/peers/linux.mjs");
  const r = blkbenchResult("x\nBLKBENCH op=read count=1000 depth=1 us=400000 checkus=100000 bad=0 first=-1\n", "l") as Record<string, number>;
  assert.is(r.iops, 1000 / 0.3);
  assert.is(r.iopsWithCheck, 1000 / 0.4);
  assert.throws(() => blkbenchResult("BLKBENCH op=read count=10 depth=1 us=4 checkus=1 bad=2 first=7", "l"), /2 of 10 reads did not match .*first block 7/);
  assert.throws(() => blkbenchResult("BLKBENCH error=open errno=2", "l"), /BLKBENCH error=open/);
  const passes = blkbenchSeqPasses([
    "BLKBENCH op=seq pass=0 bytes=67108864 req=4194304 depth=4 us=500000 crc=a001a364",
    "BLKBENCH op=seq pass=1 bytes=67108864 req=4194304 depth=4 us=50000 crc=a001a364",
  ].join("\r\n")) as { pass: number; us: number; crc: string }[];
  assert.equal(passes.map((p) => [p.pass, p.us, p.crc]), [[0, 500000, "a001a364"], [1, 50000, "a001a364"]]);
});

test.run();
