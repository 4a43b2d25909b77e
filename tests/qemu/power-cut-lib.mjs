// Power cuts of QEMU: the firmware writes sectors with a known pattern (the sector, a
// version number, bytes derived from both) and flushes, in a loop started with `js`,
// and reports on the UART each write (`W lba count firstVersion`) and each flush (`F v`:
// every version below v was acknowledged before that flush was issued) as it completes.
// At a random moment QEMU is killed (SIGKILL). Then the host reads the raw image:
// every sector a completed flush covered must hold that version or a newer one, and
// every sector must be exactly some version's pattern (nothing torn, nothing foreign).
// The next cycle boots on the same image (alternating legacy and modern virtio-mmio).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootShell } from "./lib/firmware.mjs";

const SECTOR = 512;
const MAGIC = 0x50435554; // "PCUT"

/** The words of version `version` of `sector`, as the firmware's script writes them. */
export function sectorPattern(sector, version) {
  const out = new Uint8Array(SECTOR);
  const w = new DataView(out.buffer);
  w.setUint32(0, MAGIC, true);
  w.setUint32(4, sector, true);
  w.setUint32(8, version, true);
  let h = (Math.imul(sector, 0x9e3779b1) ^ Math.imul(version, 0x85ebca6b)) >>> 0;
  for (let i = 12; i < SECTOR; i += 4) {
    h = (Math.imul(h, 1103515245) + 12345) >>> 0;
    w.setUint32(i, h, true);
  }
  return out;
}

/** The version a sector holds (0 if all zero), or null if no version's pattern. */
export function sectorVersion(bytes, sector) {
  if (bytes.every((b) => b === 0)) return 0;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC || v.getUint32(4, true) !== sector) return null;
  const version = v.getUint32(8, true);
  return Buffer.compare(bytes, sectorPattern(sector, version)) === 0 ? version : null;
}

/** The firmware's loop (one `js` line): the same pattern as sectorPattern(), in XS. */
function script(sectors, base, seed) {
  return `js (async()=>{const d=blk.devices()[0],S=${SECTOR},N=${sectors};let v=${base},x=${seed >>> 0 || 1};` +
    "const r=()=>{x^=x<<13;x^=x>>>17;x^=x<<5;return x>>>0};" +
    "const put=(b,o,s,ver)=>{const w=new DataView(b.buffer,o,S);w.setUint32(0," + MAGIC + ",true);w.setUint32(4,s,true);w.setUint32(8,ver,true);" +
    "let h=(Math.imul(s,0x9e3779b1)^Math.imul(ver,0x85ebca6b))>>>0;for(let i=12;i<S;i+=4){h=(Math.imul(h,1103515245)+12345)>>>0;w.setUint32(i,h,true)}};" +
    "for(;;){const k=1+r()%4;for(let j=0;j<k;j++){const n=1+r()%4,l=r()%(N-n+1),b=new Uint8Array(n*S),f=v;" +
    "for(let i=0;i<n;i++)put(b,i*S,l+i,v++);await d.write(l,b);platform.console.write('W '+l+' '+n+' '+f+'\\n')}" +
    "await d.flush();platform.console.write('F '+v+'\\n')}})()";
}

/** The complete W and F lines of a transcript, in order. */
export function parseReports(text) {
  const out = [];
  const lines = text.split(/\r?\n/);
  lines.pop(); // the last piece has no line end yet: not a complete report
  for (const line of lines) {
    let m = /^W (\d+) (\d+) (\d+)$/.exec(line.trim());
    if (m) {
      out.push({ kind: "W", lba: Number(m[1]), count: Number(m[2]), first: Number(m[3]) });
      continue;
    }
    m = /^F (\d+)$/.exec(line.trim());
    if (m) out.push({ kind: "F", below: Number(m[1]) });
  }
  return out;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `cycles` power cuts on one image of `sectors` sectors. Resolves with the counts:
 * acknowledged (sector writes a completed flush covered, each checked: that version or a
 * newer one on the image), lost, corrupt (a sector that is no version's pattern).
 */
export async function runQemuPowerCuts({ cycles, seed = 1, sectors = 256, maxDelayMs = 2500, log = () => {}, tamper = null }) {
  const dir = mkdtempSync(join(tmpdir(), "virtio-power-cut-"));
  const image = join(dir, "disk.img");
  writeFileSync(image, new Uint8Array(sectors * SECTOR));
  const floor = new Uint32Array(sectors); // newest version that must survive, per sector
  let base = 1;
  let x = seed >>> 0 || 1;
  const rand = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 4294967296; };
  let acknowledged = 0;
  let lost = 0;
  let corrupt = 0;
  let writesSeen = 0;
  const problems = [];
  const started = Date.now();
  try {
    for (let cycle = 0; cycle < cycles; cycle++) {
      const legacy = cycle % 2 === 1;
      const m = await bootShell({ legacy, disks: [image], lifetimeS: 300 });
      let text = "";
      const t0 = Date.now();
      try {
        const running = await m.begin(script(sectors, base, Math.floor(rand() * 2 ** 32)));
        await running.waitFor(/\nW \d+/, 20000, { what: "the first write report" });
        await sleep(Math.floor(rand() * maxDelayMs));
      } finally {
        m.machine.killNow(); // SIGKILL to QEMU's process group: the power goes
        await m.exited;
        text = m.transcript;
        await m.close();
      }
      // What the firmware said it completed, before the cut.
      const reports = parseReports(text);
      const writes = reports.filter((r) => r.kind === "W");
      writesSeen += writes.length;
      let maxVersion = base;
      const covered = new Map(); // sector -> newest version a completed flush covered
      const pending = [];
      let flushedWrites = 0; // sector writes acknowledged before a flush that completed
      for (const r of reports) {
        if (r.kind === "W") {
          pending.push(r);
          maxVersion = Math.max(maxVersion, r.first + r.count);
        } else {
          for (const w of pending) for (let i = 0; i < w.count; i++) {
            if (w.first + i >= r.below) continue;
            flushedWrites++;
            covered.set(w.lba + i, Math.max(covered.get(w.lba + i) ?? 0, w.first + i));
          }
          pending.length = 0;
        }
      }
      for (const [s, v] of covered) if (v > floor[s]) floor[s] = v;
      acknowledged += flushedWrites;
      tamper?.(image, [...covered.keys()]); // a test spoils the image to see the check catch it
      const disk = readFileSync(image);
      for (let s = 0; s < sectors; s++) {
        const version = sectorVersion(disk.subarray(s * SECTOR, (s + 1) * SECTOR), s);
        // A write in flight at the cut (not yet reported) may have landed: at most 4 sectors past the last report.
        if (version === null || version > maxVersion + 4) {
          corrupt++;
          if (problems.length < 10) problems.push(`cycle ${cycle}: sector ${s} holds bytes no write put there`);
        } else if (version < floor[s]) {
          lost++;
          if (problems.length < 10) problems.push(`cycle ${cycle}: sector ${s} holds version ${version}, a completed flush covered version ${floor[s]}`);
        } else if (version > floor[s]) {
          floor[s] = version; // on the image now: the next cycle's floor
        }
      }
      base = maxVersion + 16;
      log(`[power-cut] qemu cycle ${cycle + 1}/${cycles} (${legacy ? "legacy" : "modern"}, killed ${Date.now() - t0} ms after boot): ${writes.length} writes and ${reports.length - writes.length} flushes reported, ${flushedWrites} flushed sector writes; total ${acknowledged} checked, ${lost} lost, ${corrupt} corrupt`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { cycles, acknowledged, lost, corrupt, writesSeen, problems, ms: Date.now() - started };
}
