// Reading struct virtio_mem_config (VIRTIO 1.2 §5.15.4) consistently and checking it: the
// device's figures decide what the driver maps as RAM, so each is checked before use.

import type { VirtioDevice } from "../virtio/device.js";
import { MemConfig } from "./mem-spec.js";
import { MemConfigError } from "./errors.js";

export interface MemConfigValues {
  readonly blockSize: number;
  readonly addr: number;
  readonly regionSize: number;
  readonly usableRegionSize: number;
  readonly pluggedSize: number;
  readonly requestedSize: number;
}

/** The smallest block this driver works with: one page-pool page. */
const MIN_BLOCK = 4096;
/** This CPU addresses 32 bits: the region must lie below 4 GiB. */
const ADDRESS_LIMIT = 2 ** 32;

function num(location: string, name: string, v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MemConfigError(location, `${name} 0x${v.toString(16)} is too large`);
  return Number(v);
}

export function readMemConfig(device: VirtioDevice): MemConfigValues {
  const raw = device.readConfig((c) => ({
    blockSize: c.u64(MemConfig.BLOCK_SIZE),
    addr: c.u64(MemConfig.ADDR),
    regionSize: c.u64(MemConfig.REGION_SIZE),
    usableRegionSize: c.u64(MemConfig.USABLE_REGION_SIZE),
    pluggedSize: c.u64(MemConfig.PLUGGED_SIZE),
    requestedSize: c.u64(MemConfig.REQUESTED_SIZE),
  }));
  const where = device.location;
  const v: MemConfigValues = {
    blockSize: num(where, "block_size", raw.blockSize),
    addr: num(where, "addr", raw.addr),
    regionSize: num(where, "region_size", raw.regionSize),
    usableRegionSize: num(where, "usable_region_size", raw.usableRegionSize),
    pluggedSize: num(where, "plugged_size", raw.pluggedSize),
    requestedSize: num(where, "requested_size", raw.requestedSize),
  };
  const bs = v.blockSize;
  // §5.15.4.2: a power of two; every other figure a multiple of it.
  if (bs < MIN_BLOCK || (bs & (bs - 1)) !== 0 || bs > 2 ** 30) throw new MemConfigError(where, `block_size ${bs} is not a power of two from 4 KiB to 1 GiB`);
  for (const [name, x] of [["addr", v.addr], ["region_size", v.regionSize], ["usable_region_size", v.usableRegionSize], ["plugged_size", v.pluggedSize], ["requested_size", v.requestedSize]] as const) {
    if (x % bs !== 0) throw new MemConfigError(where, `${name} ${x} is not a multiple of block_size ${bs}`);
  }
  if (v.addr + v.regionSize > ADDRESS_LIMIT) throw new MemConfigError(where, `region 0x${v.addr.toString(16)}+${v.regionSize} reaches beyond 4 GiB, which this CPU cannot address`);
  if (v.usableRegionSize > v.regionSize) throw new MemConfigError(where, `usable_region_size ${v.usableRegionSize} exceeds region_size ${v.regionSize}`);
  if (v.pluggedSize > v.usableRegionSize) throw new MemConfigError(where, `plugged_size ${v.pluggedSize} exceeds usable_region_size ${v.usableRegionSize}`);
  if (v.requestedSize > v.usableRegionSize) throw new MemConfigError(where, `requested_size ${v.requestedSize} exceeds usable_region_size ${v.usableRegionSize} (§5.15.4.2)`);
  return v;
}
