// INTx lines shared by several PCI functions (virt swizzles 4 pins of every device over
// 4 SPIs): one platform handler per line calls every function's handler on it; each
// reads its own ISR (§4.1.4.5), so a function with nothing pending just returns.

import type { InterruptHandler, Interrupts, Platform } from "../../platform/platform.js";

interface Line {
  readonly handlers: Set<InterruptHandler>;
  enabled: number;
}

const tables = new WeakMap<Platform, Map<number, Line>>();

function linesOf(platform: Platform): Map<number, Line> {
  let t = tables.get(platform);
  if (!t) tables.set(platform, (t = new Map()));
  return t;
}

/** An Interrupts view for one function on a possibly shared INTx line. */
export function sharedIntx(platform: Platform): Interrupts {
  const lines = linesOf(platform);
  const mine = new Map<number, InterruptHandler>();
  return {
    attach(line, handler) {
      let l = lines.get(line);
      if (!l) {
        const fresh: Line = { handlers: new Set(), enabled: 0 };
        lines.set(line, (l = fresh));
        platform.irq.attach(line, (n) => {
          for (const h of fresh.handlers) h(n);
        });
      }
      mine.set(line, handler);
      l.handlers.add(handler);
    },
    detach(line) {
      const l = lines.get(line);
      const h = mine.get(line);
      if (!l || !h) return;
      l.handlers.delete(h);
      mine.delete(line);
      if (l.handlers.size === 0) {
        platform.irq.detach(line);
        lines.delete(line);
      }
    },
    enable(line) {
      const l = lines.get(line);
      if (l && l.enabled++ === 0) platform.irq.enable(line);
    },
    disable(line) {
      const l = lines.get(line);
      if (l && l.enabled > 0 && --l.enabled === 0) platform.irq.disable(line);
    },
    eoi() {
      // The platform's dispatcher ends the shared line once its handler returned.
    },
  };
}
