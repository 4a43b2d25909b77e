// Our driver stack under `npm run bench`: boots the firmware with the bench disk (read
// only) and a scratch copy (for writes), runs the `blk bench` shell commands
// (apps/shell/commands/blk-bench.ts), which time the work with the guest's generic timer
// and print one JSON line each; every read is checked in the guest, the sequential CRC-32
// here against the image's.
import { QemuMachine } from "./qemu.mjs";

export class BenchCheckError extends Error { name = "BenchCheckError"; }

async function json(m, line, timeoutMs) {
  const r = await m.command(line, { timeoutMs });
  const text = r.output.trim().split("\n").pop() ?? "";
  let out;
  try {
    out = JSON.parse(text);
  } catch {
    throw new BenchCheckError(`\`${line}\` printed no JSON (status ${r.status}): ${r.output.trim().slice(-400)}`);
  }
  if (r.status !== 0) throw new BenchCheckError(`\`${line}\` failed (status ${r.status}): ${text}`);
  return out;
}

/** [read-only image, writable scratch] as `blk dev` numbers, from `blk info` of each. */
async function blkDevices(m) {
  const readOnly = [];
  for (const n of [0, 1]) {
    const sel = await m.command(`blk dev ${n}`);
    if (sel.status !== 0) throw new BenchCheckError(`ours: \`blk dev ${n}\` failed: ${sel.output.trim()}`);
    const info = (await m.command("blk info")).output;
    const ro = /read-only\s+(yes|no)/.exec(info)?.[1];
    if (ro === undefined) throw new BenchCheckError(`ours: \`blk info\` of device ${n} says nothing of read-only: ${info.trim().slice(-300)}`);
    readOnly.push(ro === "yes");
  }
  if (readOnly[0] === readOnly[1]) throw new BenchCheckError(`ours: blk devices 0 and 1 are both ${readOnly[0] ? "read-only" : "writable"}`);
  return readOnly[0] ? [0, 1] : [1, 0];
}

/**
 * One boot of our firmware: adds samples to `samples` (suffix for the transport mode).
 * `work`: {seq: {reqKiB, depth, passes} | null, qd1, qd32, writes, counts: {qd1, qd32, w1, w32}}.
 */
export async function runOurs({ elf, image, scratch, legacy, pci = false, memory, work, samples, suffix, seed, log }) {
  const m = new QemuMachine({
    // A command that hangs (a lost interrupt or console byte) fails this boot after a minute.
    elf, legacy, memory, bootTimeoutMs: 60000, commandTimeoutMs: 60000,
    devices: [{ disk: image.path, readonly: true, pci }, { disk: scratch, pci }],
  });
  try {
    await m.start();
    samples.add(`ready_s${suffix}`, m.bootMs / 1000);
    // Which `blk dev` is the read-only bench image and which the scratch copy: over mmio
    // the first -device (slot 31) is 0, over PCI the last function is (highest slot first).
    const [imageDev, scratchDev] = await blkDevices(m);
    await m.command(`blk dev ${imageDev}`);
    if (work.seq) {
      // The whole disk into one DMA region as large as the disk, `passes` times into the
      // same memory (the first pass reported apart), every pass checked by its CRC-32.
      const { reqKiB, depth, passes } = work.seq;
      const r = await json(m, `blk bench seq ${reqKiB} ${depth} ${passes}`, 120000);
      if (!Array.isArray(r.passes) || r.passes.length !== passes) throw new BenchCheckError(`ours: blk bench seq printed ${r.passes?.length} passes, not ${passes}`);
      // Linux reads with the same request size (bench.mjs).
      if (Number.isInteger(r.requestKiB)) work.seq.linuxReqKiB = r.requestKiB;
      samples.add(`seq_request_kib${suffix}`, r.requestKiB);
      r.passes.forEach((p, i) => {
        if (p.crc32 !== image.crc32) throw new BenchCheckError(`ours: sequential pass ${i + 1} read CRC-32 ${p.crc32}, the image's is ${image.crc32}`);
        if (!(p.ms > 0)) throw new BenchCheckError(`ours: sequential pass ${i + 1} took ${p.ms} ms`);
        const mibps = r.bytes / 1048576 / (p.ms / 1000);
        samples.add(`seq_read_mibps${i === 0 ? "_first" : ""}${suffix}`, mibps);
        if (i > 0) samples.add(`seq_requests_per_pass${suffix}`, p.requests);
        log(`ours${suffix}: seq pass ${i + 1} ${p.ms} ms = ${mibps.toFixed(0)} MiB/s (${p.requests} requests of ${r.requestKiB} KiB, ${r.depth} in flight; crc32 ok)`);
      });
    }
    for (const [on, name, depth, count] of [[work.qd1, "qd1", 1, work.counts.qd1], [work.qd32, "qd32", 32, work.counts.qd32]]) {
      if (!on) continue;
      const r = await json(m, `blk bench read4k ${count} ${depth} ${seed}`);
      if (r.bad !== 0 || r.verified !== count) throw new BenchCheckError(`ours: ${r.bad} of ${count} reads did not match the image (first block ${r.firstBad})`);
      // r.iops leaves out the time of the blocks' checks (measured apart, as Linux's).
      samples.add(`${name}_read_iops${suffix}`, r.iops);
      samples.add(`${name}_notifications_per_request${suffix}`, r.notificationsPerRequest);
      samples.add(`${name}_interrupts_per_request${suffix}`, r.interruptsPerRequest);
      log(`ours${suffix}: ${name} ${r.iops} reads/s (${r.iopsWithCheck} with the check's ${r.checkMs} ms), ${r.notificationsPerRequest} notif + ${r.interruptsPerRequest} irq per request (${count} verified)`);
      if (depth === 32) samples.add(`xs_heap_peak_bytes_after_qd32${suffix}`, (r.heap?.chunksPeak ?? 0) + (r.heap?.slotsPeak ?? 0));
    }
    if (work.writes) {
      await m.command(`blk dev ${scratchDev}`);
      for (const [name, depth, count] of [["qd1", 1, work.counts.w1], ["qd32", 32, work.counts.w32]]) {
        const r = await json(m, `blk bench write4k ${count} ${depth} ${seed}`);
        samples.add(`${name}_write_iops${suffix}`, r.iops);
        log(`ours${suffix}: ${name} ${r.iops} writes/s (then flush)`);
      }
    }
    const s = await json(m, "blk bench stats");
    const heap = (s.heap.chunksPeak ?? 0) + (s.heap.slotsPeak ?? 0);
    samples.add(`xs_heap_peak_bytes${suffix}`, heap);
  } finally {
    await m.close();
  }
}
