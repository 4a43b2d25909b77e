// What a fuzz target (one device type) gives the engine: its device model and driver,
// the actions that drive the driver's public API and make its device lie, a way to
// stop the lies, a probe that shows the driver works again, and its leftovers.

import type { Args, Rand } from "./random.js";
import type { World } from "./world.js";

export type DeviceKind = "blk" | "rng" | "net" | "console" | "input";
export const DEVICE_KINDS: readonly DeviceKind[] = ["blk", "rng", "net", "console", "input"];

export interface Driven {
  /** Runs one action (issues calls without waiting, or sets a lie). */
  run(action: string, args: Args): void;
  /** The device stops lying (the engine clears the transport's faults). */
  heal(): void;
  /** After healing and settling: one more request through the API must work (or fail
   * with the error that says the driver gave the device up). */
  probe(): Promise<void>;
  /** Checks at the end of the case (data, counters); findings through world.report. */
  check(): void;
  /** Frees what the target itself holds (caller DMA buffers, listeners) before shutdown. */
  release(): void;
  /** DMA bytes the target (as the application) holds now (default 0). */
  heldDmaBytes?(): number;
}

export interface Target {
  readonly kind: DeviceKind;
  /** Action names with weights (the engine adds its own transport-level ones). */
  readonly actions: readonly (readonly [string, number])[];
  /** Builds the device model and driver on `world` (attach, register; the engine scans). */
  setup(world: World, version: 1 | 2, config: Rand): Promise<Driven>;
}
