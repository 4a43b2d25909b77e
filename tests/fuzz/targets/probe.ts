// The start of a probe shared by the port-like targets (console, input): once the device
// behaves again, a port that is down is brought back with a restart, unless the driver
// gave the device up by its own rule (DeviceBrokenError), which is a fine outcome.

import { DeviceBrokenError } from "../../../drivers/virtio/errors.js";
import { describeError, type World } from "../world.js";

export interface ProbedPort {
  readonly broken: Error | null;
  readonly live: boolean;
}

/** "given-up": nothing to probe; "lost": reported; "ready": probe now. */
export async function reviveForProbe(w: World, port: ProbedPort | undefined): Promise<"given-up" | "lost" | "ready"> {
  const vd = w.bus.device(w.dev.slot);
  if (!vd) {
    w.report("no-recovery", "the bus lost the device");
    return "lost";
  }
  if (port?.broken instanceof DeviceBrokenError) return "given-up";
  if (!port || port.broken || !port.live) {
    w.track("device.restart() (probe)", vd.restart());
    await w.run(60_000, () => w.pending.size === 0);
  }
  return "ready";
}

/** What the core says of the device, for a no-recovery message. */
export function deviceState(w: World): string {
  const vd = w.bus.device(w.dev.slot);
  return vd?.error ? describeError(vd.error) : vd ? vd.step : "no device";
}
