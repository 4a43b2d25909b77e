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

/**
 * One boot of our firmware: adds samples to `samples` (suffix for the transport mode).
 * `work`: {seq, qd1, qd32, writes, counts: {qd1, qd32, w1, w32}}.
 */
export async function runOurs({ elf, image, scratch, legacy, work, samples, suffix, seed, log }) {
  const m = new QemuMachine({
    // A command that hangs (a lost interrupt or console byte) fails this boot after a minute.
    elf, legacy, bootTimeoutMs: 60000, commandTimeoutMs: 60000,
    devices: [{ disk: image.path, readonly: true }, { disk: scratch }],
  });
  try {
    await m.start();
    samples.add(`ready_s${suffix}`, m.bootMs / 1000);
    // Slot 31 (the first -device) is the read-only bench image: `blk dev 0`.
    await m.command("blk dev 0");
    if (work.seq) {
      // The shell's defaults: 2 chunks of 1 MiB in flight, one request each.
      const r = await json(m, "blk bench seq");
      if (r.crc32 !== image.crc32) throw new BenchCheckError(`ours: sequential read CRC-32 ${r.crc32}, the image's is ${image.crc32}`);
      if (!(r.ms > 0) || !(r.crcMs >= 0) || r.crcMs >= r.ms) throw new BenchCheckError(`ours: sequential read timing ms ${r.ms}, crcMs ${r.crcMs}`);
      // Like with like: U-Boot and Linux verify their checksum after the timed read, so
      // the figure leaves the CRC-32 time out (the CRC is still checked above); the
      // figure with it stays beside it.
      const mib = r.bytes / 1048576;
      const mibps = Math.round((mib / ((r.ms - r.crcMs) / 1000)) * 100) / 100;
      samples.add(`seq_read_mibps${suffix}`, mibps);
      samples.add(`seq_read_crc_mibps${suffix}`, r.mibps);
      log(`ours${suffix}: seq ${mibps} MiB/s without the CRC, ${r.mibps} with it (${r.ms} ms, crc ${r.crcMs} ms; crc32 ok)`);
    }
    for (const [on, name, depth, count] of [[work.qd1, "qd1", 1, work.counts.qd1], [work.qd32, "qd32", 32, work.counts.qd32]]) {
      if (!on) continue;
      const r = await json(m, `blk bench read4k ${count} ${depth} ${seed}`);
      if (r.bad !== 0 || r.verified !== count) throw new BenchCheckError(`ours: ${r.bad} of ${count} reads did not match the image (first block ${r.firstBad})`);
      samples.add(`${name}_read_iops${suffix}`, r.iops);
      samples.add(`${name}_notifications_per_request${suffix}`, r.notificationsPerRequest);
      samples.add(`${name}_interrupts_per_request${suffix}`, r.interruptsPerRequest);
      log(`ours${suffix}: ${name} ${r.iops} reads/s, ${r.notificationsPerRequest} notif + ${r.interruptsPerRequest} irq per request (${count} verified)`);
    }
    if (work.writes) {
      await m.command("blk dev 1");
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
