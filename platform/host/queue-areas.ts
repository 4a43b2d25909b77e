// Where a queue's three areas are and whether the device can accept them: the modern
// alignment table (§2.7: 16 / 2 / 4), the legacy contiguous layout (§2.7.2 legacy
// interfaces, §4.2.4), and the common checks (inside RAM, not overlapping).

import type { RingLayout } from "./device-queue.js";
import type { PhysicalMemory } from "./memory.js";
import type { AccessProblem } from "./register-map.js";
import { availSize, descTableSize, usedSize } from "./virtio-constants.js";

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Modern: each area on its own alignment (§2.7 "Alignment" table). */
export function checkModernAlignment(queue: number, layout: RingLayout): AccessProblem | null {
  const bad = [
    layout.desc % 16 && `descriptor table ${hex(layout.desc)} (16)`,
    layout.avail % 2 && `driver area ${hex(layout.avail)} (2)`,
    layout.used % 4 && `device area ${hex(layout.used)} (4)`,
  ].filter(Boolean);
  return bad.length === 0 ? null : { rule: "queue-misaligned", message: `queue ${queue}: misaligned ${bad.join(", ")} (§2.7 alignment table)` };
}

/** Legacy: one block at QueuePFN × GuestPageSize, the used ring on the QueueAlign boundary. */
export function legacyLayout(pfn: number, pageSize: number, num: number, align: number): RingLayout {
  const desc = pfn * pageSize;
  const avail = desc + descTableSize(num);
  const used = Math.ceil((avail + availSize(num)) / align) * align;
  return { desc, avail, used };
}

/** The three areas must lie in RAM and not on top of each other. */
export function checkAreas(memory: PhysicalMemory, queue: number, num: number, layout: RingLayout): AccessProblem | null {
  const areas: [string, number, number][] = [
    ["descriptor table", layout.desc, descTableSize(num)],
    ["driver area", layout.avail, availSize(num)],
    ["device area", layout.used, usedSize(num)],
  ];
  for (const [name, addr, len] of areas) {
    if (!memory.contains(addr, len)) {
      return { rule: "queue-area-outside-memory", message: `queue ${queue}: ${name} ${hex(addr)}+${len} is outside RAM` };
    }
  }
  for (let a = 0; a < 3; a++) {
    for (let b = a + 1; b < 3; b++) {
      const [na, xa, la] = areas[a]!;
      const [nb, xb, lb] = areas[b]!;
      if (xa < xb + lb && xb < xa + la) {
        return { rule: "queue-areas-overlap", message: `queue ${queue}: ${na} ${hex(xa)}+${la} overlaps ${nb} ${hex(xb)}+${lb}` };
      }
    }
  }
  return null;
}
