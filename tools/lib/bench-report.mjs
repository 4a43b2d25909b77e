// The bench report as a Markdown table (for bench/README.md): one row per figure,
// median [min-max] (n) for each driver, ratios ours/peer.

const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(4));
const cell = (f) => (f ? `${fmt(f.median)} [${fmt(f.min)}-${fmt(f.max)}] (${f.n})` : "-");

export function reportMarkdown(rep) {
  const keys = [...new Set([...Object.keys(rep.ours), ...Object.keys(rep.uboot), ...Object.keys(rep.linux)])].sort();
  const lines = [
    `Run of ${rep.meta.date} (${rep.meta.seconds} s): QEMU ${rep.meta.qemu}, \`${rep.meta.machine}\`, host ${rep.meta.host}, load average ${rep.meta.loadavg.join(" ")} at the end; ${rep.meta.runs} run(s) per figure.`,
    "",
    "| figure | ours | U-Boot | Linux | ours/U-Boot | ours/Linux |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const k of keys) {
    lines.push(`| \`${k}\` | ${cell(rep.ours[k])} | ${cell(rep.uboot[k])} | ${cell(rep.linux[k])} | ${rep.ratios.uboot[k] ?? "-"} | ${rep.ratios.linux[k] ?? "-"} |`);
  }
  lines.push("");
  for (const [k, v] of Object.entries(rep.ratios)) if (k.startsWith("targets")) lines.push(`- \`${k}\`: \`${JSON.stringify(v)}\``);
  if (rep.meta.failures.length) lines.push("", "Failures:", ...rep.meta.failures.map((f) => `- ${f}`));
  return lines.join("\n") + "\n";
}
