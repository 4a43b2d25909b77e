// The bench report as text: the method (what each peer did: request sizes, depths,
// passes), the figures table (median [min-max] (n) per driver, ratios ours/peer) and the
// targets with their verdicts, as Markdown for bench/README.md.
import { goalText, verdictText } from "./bench-targets.mjs";

const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(4));
const cell = (f) => (f ? `${fmt(f.median)} [${fmt(f.min)}-${fmt(f.max)}] (${f.n})` : "-");

/** What each peer did for each workload, from the report's own figures and settings. */
export function methodLines(rep) {
  const seq = rep.meta.seq;
  const c = rep.meta.counts;
  const perPass = rep.ours.seq_requests_per_pass?.median;
  const lx = (k) => rep.linux[k]?.median;
  const lines = [];
  if (seq) {
    lines.push(
      `sequential: the whole 64 MiB disk into one 64 MiB region, ${seq.passes} passes per boot into the same memory; the first pass (into memory untouched since power-on) is *_first, the others the figure; every pass CRC-32 checked after its timed window.`,
      `  ours:   ${rep.ours.seq_request_kib?.median ?? "?"} KiB requests (${perPass ?? "?"} per pass), ${seq.depth} in flight, guest-timed (generic timer)`,
      `  U-Boot: one \`virtio read\` of 64 MiB = one request (one 64 MiB descriptor), depth 1, host-timed whole command (echo-corrected beside it)`,
      `  Linux:  ${seq.linuxReqKiB} KiB O_DIRECT preads, ${seq.depth} in flight (AIO), guest-timed; the kernel cuts each into requests of at most ${lx("queue_max_sectors_kb") ?? "?"} KiB, ${lx("queue_max_segments") ?? "?"} segments`,
    );
  }
  lines.push(
    `4 KiB random: ours and Linux ${c.qd1} reads at depth 1, ${c.qd32} at depth 32, ${c.w1} / ${c.w32} writes (+ flush); U-Boot ${c.uboot} \`virtio read\`s at depth 1; block checks left out of every timed window (U-Boot's after it, ours' and Linux's measured apart and subtracted).`,
  );
  return lines;
}

/** [target, value, goal, verdict, detail] rows for a target list. */
export function targetRows(list) {
  return list.map((t) => [t.id, t.value === null ? "-" : String(t.value), goalText(t.goal), verdictText(t.met), t.detail ?? ""]);
}

export function reportMarkdown(rep) {
  const keys = [...new Set([...Object.keys(rep.ours), ...Object.keys(rep.uboot), ...Object.keys(rep.linux)])].sort();
  const lines = [
    `Run of ${rep.meta.date} (${rep.meta.seconds} s): QEMU ${rep.meta.qemu}, \`${rep.meta.machine}\` for all three, host ${rep.meta.host}, load average ${rep.meta.loadavgStart?.join(" ") ?? "?"} at the start, ${rep.meta.loadavg.join(" ")} at the end; ${rep.meta.runs} run(s) per figure.`,
    "",    ...(rep.meta.devices ? [`Disks (the same for all three): ${Object.entries(rep.meta.devices).map(([mode, d]) => `${mode} \`${d}\``).join(", ")}.`, ""] : []),

    ...methodLines(rep).map((l) => (l.startsWith("  ") ? `  - ${l.trim()}` : `- ${l}`)),
    "",
    "| figure | ours | U-Boot | Linux | ours/U-Boot | ours/Linux |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const k of keys) {
    lines.push(`| \`${k}\` | ${cell(rep.ours[k])} | ${cell(rep.uboot[k])} | ${cell(rep.linux[k])} | ${rep.ratios.uboot[k] ?? "-"} | ${rep.ratios.linux[k] ?? "-"} |`);
  }
  for (const [mode, list] of Object.entries(rep.targets ?? {})) {
    lines.push("", `Targets, ${mode}:`, "", "| target | value | goal | verdict | |", "| --- | --- | --- | --- | --- |");
    for (const r of targetRows(list)) lines.push(`| ${r[0]} | ${r[1]} | ${r[2]} | ${r[3] === "MISSED" ? "**missed**" : r[3]} | ${r[4]} |`);
  }
  if (rep.meta.failures.length) lines.push("", "Failures:", ...rep.meta.failures.map((f) => `- ${f}`));
  const notRun = Object.entries(rep.meta.notRun ?? {});
  if (notRun.length) lines.push("", "Not run (the peer's own limit):", ...notRun.map(([k, v]) => `- ${k}: ${v}`));
  return lines.join("\n") + "\n";
}
