// Consistent reads of the device configuration space (VIRTIO 1.2 §2.5.1). A field
// wider than 32 bits, or several fields that belong together, may change while the
// driver reads them: on a modern transport the driver reads ConfigGeneration before and
// after, and reads again if it changed. Legacy transports have no generation (§2.5.4
// "Legacy Interface: Device Configuration Space"): a read of more than one register
// access is repeated until two reads in a row agree.

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

/** A reader that counts its register accesses (a u64 is two). */
function countingReader(transport: Transport): { reader: ConfigReader; accesses: () => number } {
  const inner = readerFor(transport);
  let n = 0;
  const reader: ConfigReader = {
    u8: (offset) => (n++, inner.u8(offset)),
    u16: (offset) => (n++, inner.u16(offset)),
    u32: (offset) => (n++, inner.u32(offset)),
    u64: (offset) => ((n += 2), inner.u64(offset)),
  };
  return { reader, accesses: () => n };
}

/** Deep equality of what a config read builds: numbers, bigints, strings, booleans,
 * byte arrays, arrays and plain objects of them. */
export function sameConfigValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!sameConfigValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** Legacy (§2.5.4): no generation, so a read of several accesses (a 64-bit capacity, the
 * 6-byte mac, fields that belong together) is repeated until two reads in a row agree;
 * one access cannot tear and is read once. */
function readLegacyConfig<T>(transport: Transport, read: (config: ConfigReader) => T, attempts: number): T {
  const { reader, accesses } = countingReader(transport);
  let previous = read(reader);
  if (accesses() <= 1) return previous;
  for (let attempt = 1; attempt < attempts; attempt++) {
    const value = read(reader);
    if (sameConfigValue(value, previous)) return value;
    previous = value;
  }
  throw new ConfigGenerationError(transport.location, attempts);
}

/**
 * Runs `read` (which should only read fields and build a value) until ConfigGeneration
 * reads the same before and after it, at most `attempts` times (§2.5.1: "the driver
 * MUST ... read the configuration generation ... before and after"). Throws
 * ConfigGenerationError if the generation never settles.
 */
export function readConfig<T>(transport: Transport, read: (config: ConfigReader) => T, attempts = CONFIG_READ_ATTEMPTS): T {
  if (transport.version === 1) return readLegacyConfig(transport, read, attempts);
  const reader = readerFor(transport);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const before = transport.configGeneration();
    const value = read(reader);
    if (transport.configGeneration() === before) return value;
  }
  throw new ConfigGenerationError(transport.location, attempts);
}
