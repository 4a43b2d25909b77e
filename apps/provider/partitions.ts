// The four primary entries of an MBR partition table (sector 0: entries at byte 446, 16
// bytes each; boot signature 0x55 0xAA at 510), for flash paths like "blk0p1".

import { SECTOR_SIZE } from "../../drivers/blk/blk-spec.js";

export interface Partition {
  /** 1 to 4. */
  readonly number: number;
  /** The partition type byte (0x83 Linux, 0x0c FAT32 LBA, ...). */
  readonly type: number;
  /** First sector and size, in 512-byte sectors. */
  readonly firstSector: number;
  readonly sectors: number;
}

/** The used primary partitions of `sector0`; [] when it holds no MBR. */
export function mbrPartitions(sector0: Uint8Array, diskSectors: number): Partition[] {
  if (sector0.length < SECTOR_SIZE || sector0[510] !== 0x55 || sector0[511] !== 0xaa) return [];
  const view = new DataView(sector0.buffer, sector0.byteOffset, SECTOR_SIZE);
  const out: Partition[] = [];
  for (let n = 1; n <= 4; n++) {
    const at = 446 + (n - 1) * 16;
    const type = sector0[at + 4]!;
    const firstSector = view.getUint32(at + 8, true);
    const sectors = view.getUint32(at + 12, true);
    // Never trust the table: an entry must lie inside the disk.
    if (type === 0 || sectors === 0 || firstSector === 0 || firstSector + sectors > diskSectors) continue;
    out.push({ number: n, type, firstSector, sectors });
  }
  return out;
}
