// Issue #8's targets, checked from one bench report: each is a ratio (or a count) from the
// medians of the same run, a goal, and whether it is met. Missing figures (a workload or a
// peer left out, a failed run) give `met: null`, never a pass.

/** XS heap peak (chunksPeak + slotsPeak, bytes) of the run before issue #8's work (the
 * `xs_heap_peak_bytes` median of the 2026-11-22 run in bench/README.md): the target is
 * to stay at or below it. */
export const HEAP_BASELINE_BYTES = 5246240;

const r3 = (x) => Math.round(x * 10000) / 10000 >= 1 ? Math.round(x * 1000) / 1000 : Number(x.toPrecision(3));

/** `a` / `b` of two medians (unrounded: the verdict is taken on it), or null. */
function over(a, b) {
  return a && b && b.median ? a.median / b.median : null;
}

/**
 * The targets for one transport mode (`suffix` "" or "_legacy") of `report`
 * ({ours, uboot, linux}: figure name -> {median, ...}). Returns
 * [{id, what, value, goal, met, detail}] with `value` the ratio (or the count) checked
 * against `goal` ({atLeast} or {atMost}).
 */
export function checkTargets(report, suffix = "") {
  const f = (who, k) => report[who]?.[k + suffix] ?? null;
  const ours = (k) => f("ours", k);
  const out = [];
  const add = (id, what, exact, goal, detail = "") => {
    const met = exact === null ? null : "atLeast" in goal ? exact >= goal.atLeast : exact <= goal.atMost;
    // Shown with 3 decimals, or more where that would read as the goal itself but misses it.
    const edge = "atLeast" in goal ? goal.atLeast : goal.atMost;
    const shown = exact === null ? null : r3(exact) === edge && !met ? Number(exact.toPrecision(7)) : r3(exact);
    out.push({ id, what, value: shown, goal, met, detail });
  };
  const ge1 = { atLeast: 1 };
  add("qd1_read_vs_linux", "4 KiB random reads, depth 1, vs Linux", over(ours("qd1_read_iops"), f("linux", "qd1_read_iops")), ge1);
  const corrected = over(ours("qd1_read_iops"), f("uboot", "qd1_read_iops_echo_corrected"));
  const x = (v) => `${r3(v)}x`;
  add("qd1_read_vs_uboot", "4 KiB random reads, depth 1, vs U-Boot's whole-command rate", over(ours("qd1_read_iops"), f("uboot", "qd1_read_iops")), ge1,
    corrected === null ? "" : `${x(corrected)} of U-Boot's echo-corrected estimate`);
  add("qd32_read_vs_linux", "4 KiB random reads, depth 32, vs Linux depth 32", over(ours("qd32_read_iops"), f("linux", "qd32_read_iops")), ge1);
  add("qd1_write_vs_linux", "4 KiB random writes, depth 1, vs Linux", over(ours("qd1_write_iops"), f("linux", "qd1_write_iops")), ge1);
  add("qd32_write_vs_linux", "4 KiB random writes, depth 32, vs Linux", over(ours("qd32_write_iops"), f("linux", "qd32_write_iops")), ge1);
  const seqCorrected = over(ours("seq_read_mibps"), f("uboot", "seq_read_mibps_echo_corrected"));
  add("seq_read_vs_uboot", "sequential read (warm passes) vs U-Boot's warm whole-command rate", over(ours("seq_read_mibps"), f("uboot", "seq_read_mibps")), { atLeast: 0.9 },
    seqCorrected === null ? "" : `${x(seqCorrected)} of U-Boot's echo-corrected estimate`);
  add("ready_vs_uboot", "QEMU start to blk ready vs U-Boot's (time ratio)", over(ours("ready_s"), f("uboot", "ready_s")), { atMost: 1 });
  const n = ours("qd32_notifications_per_request");
  const i = ours("qd32_interrupts_per_request");
  add("qd32_events_per_request", "notifications + interrupts per request, depth 32", n && i ? n.median + i.median : null, { atMost: 0.1 });
  // The peak when the depth-32 run ends (everything of the boot up to it included).
  const heap = ours("xs_heap_peak_bytes_after_qd32");
  add("xs_heap_peak_vs_baseline", `XS heap peak up to the end of the depth-32 run vs the baseline ${HEAP_BASELINE_BYTES} B`,
    heap ? heap.median / HEAP_BASELINE_BYTES : null, { atMost: 1 }, heap ? `${heap.median} B (${heap.median >= HEAP_BASELINE_BYTES ? "+" : ""}${heap.median - HEAP_BASELINE_BYTES} B)` : "");
  return out;
}

/** "≥ 0.9" / "≤ 1" for a goal. */
export function goalText(goal) {
  return "atLeast" in goal ? `>= ${goal.atLeast}` : `<= ${goal.atMost}`;
}

/** "met" / "MISSED" / "no figure" for a target's verdict. */
export function verdictText(met) {
  return met === null ? "no figure" : met ? "met" : "MISSED";
}
