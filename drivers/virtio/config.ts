// Consistent reads of the device configuration space (VIRTIO 1.2 §2.5.1). A field
// wider than 32 bits, or several fields that belong together, may change while the
// driver reads them: on a modern transport the driver reads ConfigGeneration before and
// after, and reads again if it changed. Legacy transports have no generation (§2.5.1.1
// "Legacy Interface"): the fields are read once.

import { ConfigGenerationError } from "./errors.js";
import type { Transport } from "./transport.js";

/** Field accessors over the configuration space; offsets are from its start. */
export interface ConfigReader {
  u8(offset: number): number;
  u16(offset: number): number;
  u32(offset: number): number;
  /** A 64-bit field as two 32-bit reads, low word first; consistency comes from the generation check. */
  u64(offset: number): bigint;
}

/** How many times a read is tried before the configuration is declared unstable. */
export const CONFIG_READ_ATTEMPTS = 8;

function readerFor(transport: Transport): ConfigReader {
  return {
    u8: (offset) => transport.readConfig8(offset),
    u16: (offset) => transport.readConfig16(offset),
    u32: (offset) => transport.readConfig32(offset),
    u64: (offset) => {
      const low = transport.readConfig32(offset);
      const high = transport.readConfig32(offset + 4);
      return (BigInt(high) << 32n) | BigInt(low);
    },
  };
}

/**
 * Runs `read` (which should only read fields and build a value) until ConfigGeneration
 * reads the same before and after it, at most `attempts` times (§2.5.1: "the driver
 * MUST ... read the configuration generation ... before and after"). Throws
 * ConfigGenerationError if the generation never settles.
 */
export function readConfig<T>(transport: Transport, read: (config: ConfigReader) => T, attempts = CONFIG_READ_ATTEMPTS): T {
  const reader = readerFor(transport);
  if (transport.version === 1) return read(reader);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const before = transport.configGeneration();
    const value = read(reader);
    if (transport.configGeneration() === before) return value;
  }
  throw new ConfigGenerationError(transport.location, attempts);
}
