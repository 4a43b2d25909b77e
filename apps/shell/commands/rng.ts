// `rng N`: N random bytes from the first virtio entropy device, as hex on one line.

import type { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { UsageError, type Command } from "../command.js";

/** Most bytes one `rng` prints. */
export const RNG_MAX = 65536;

/** Anything with the RngDriver's `devices()` (the driver, or a test's fake). */
export type RngSource = Pick<RngDriver, "devices">;

export function rngCommand(driver: RngSource): Command {
  return {
    name: "rng",
    usage: "rng N",
    summary: `print N (1-${RNG_MAX}) random bytes from virtio-rng as hex`,
    async run(args, io) {
      const n = args.length === 1 && /^\d+$/.test(args[0]!) ? Number(args[0]) : NaN;
      if (!(n >= 1 && n <= RNG_MAX)) throw new UsageError(`N must be a number from 1 to ${RNG_MAX}`);
      const device = driver.devices()[0];
      if (device === undefined) {
        io.print("no virtio-rng device");
        return 1;
      }
      const bytes = await device.read(n);
      let hex = "";
      for (const b of bytes) hex += b.toString(16).padStart(2, "0");
      io.print(hex);
      return 0;
    },
  };
}
