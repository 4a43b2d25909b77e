// The capability list (PCI Local Bus 3.0 §6.7): a chain of (id, next) bytes starting at
// CapabilitiesPtr when Status bit 4 says it exists. The device is not trusted: offsets
// must be dword-aligned, in the header's 256 bytes past the standard header, and the
// walk stops after 48 entries (a loop).

import { Cfg, STATUS_CAP_LIST } from "./config-regs.js";
import type { Ecam, PciAddress } from "./ecam.js";
import type { PciCapability } from "./pci-function.js";

const MAX_CAPABILITIES = 48; // (256 - 64) / 4

export function readCapabilities(ecam: Ecam, a: PciAddress): { caps: PciCapability[]; problem: string | null } {
  const caps: PciCapability[] = [];
  if ((ecam.read16(a, Cfg.Status) & STATUS_CAP_LIST) === 0) return { caps, problem: null };
  let at = ecam.read8(a, Cfg.CapabilitiesPtr) & ~0x3;
  const seen = new Set<number>();
  while (at !== 0) {
    if (at < 0x40 || at > 0xfc) return { caps, problem: `capability pointer 0x${at.toString(16)} outside 0x40-0xfc` };
    if (seen.has(at) || caps.length >= MAX_CAPABILITIES) return { caps, problem: `capability list loops at 0x${at.toString(16)}` };
    seen.add(at);
    caps.push({ id: ecam.read8(a, at), offset: at });
    at = ecam.read8(a, at + 1) & ~0x3;
  }
  return { caps, problem: null };
}
